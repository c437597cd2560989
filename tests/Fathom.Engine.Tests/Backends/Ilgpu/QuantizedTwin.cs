using Fathom.Gguf;
using Fathom.Engine.Tests.Model;

namespace Fathom.Engine.Tests.Backends.Ilgpu;

/// <summary>
/// A synthetic model with its matrices in quantized types (taken in turn from a list), and its F32 twin holding exactly the values the
/// quantized file decodes to — so the reference backend on the twin is an exact oracle for the quantized model.
/// </summary>
internal static class QuantizedTwin
{
    public static void Write(string quantizedPath, string twinPath, SyntheticLlamaShape shape, params GgmlType[] types)
    {
        var source = quantizedPath + ".f32.gguf";
        SyntheticLlama.Write(source, shape, GgmlType.F32);
        using (var file = GgufFile.Open(source))
        {
            var quantized = new GgufWriter();
            var twin = new GgufWriter();
            foreach (var (key, value) in file.Metadata)
            {
                if (key != "general.alignment")
                {
                    quantized.AddMetadata(key, value);
                    twin.AddMetadata(key, value);
                }
            }

            var matrixIndex = 0;
            foreach (var tensor in file.Tensors)
            {
                var values = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(file.GetTensorBytes(tensor)).ToArray();
                if (tensor.Dimensions.Length != 2)
                {
                    quantized.AddTensor(tensor.Name, GgmlType.F32, tensor.Dimensions.ToArray(), file.GetTensorBytes(tensor));
                    twin.AddTensor(tensor.Name, GgmlType.F32, tensor.Dimensions.ToArray(), file.GetTensorBytes(tensor));
                    continue;
                }

                var type = types[matrixIndex++ % types.Length];
                var columns = (int)tensor.Dimensions[0];
                var rows = (int)tensor.Dimensions[1];
                var rowBytes = (int)GgmlTypeTraits.RowBytes(type, columns);
                var bytes = new byte[rowBytes * rows];
                var decoded = new float[values.Length];
                for (var r = 0; r < rows; r++)
                {
                    var row = bytes.AsSpan(r * rowBytes, rowBytes);
                    QuantizedWeight.Encode(type, values.AsSpan(r * columns, columns), row);
                    QuantizedWeight.Decode(type, row, decoded.AsSpan(r * columns, columns));
                }

                quantized.AddTensor(tensor.Name, type, tensor.Dimensions.ToArray(), bytes);
                twin.AddTensor(tensor.Name, GgmlType.F32, tensor.Dimensions.ToArray(), TensorEncoding.Encode(GgmlType.F32, decoded));
            }

            quantized.WriteTo(quantizedPath);
            twin.WriteTo(twinPath);
        }

        File.Delete(source);
    }
}
