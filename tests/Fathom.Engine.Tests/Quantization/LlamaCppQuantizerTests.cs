using Fathom.Gguf;
using Fathom.Engine.Quantization;
using Fathom.Engine.Tests.Model;
using LLama;
using LLama.Native;

namespace Fathom.Engine.Tests.Quantization;

/// <summary>
/// Our quantizers against llama.cpp's own: an F32 model written by our writer is quantized by llama.cpp
/// (<c>llama_model_quantize</c>, no importance matrix, so its reference row quantizers), and every tensor it
/// stored in a type we support must be byte-identical to our quantization of the same F32 rows.
/// </summary>
public sealed class LlamaCppQuantizerTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("fathom-quantizer-").FullName;

    public static TheoryData<LLamaFtype, GgmlType[]> Recipes => new()
    {
        { LLamaFtype.MOSTLY_Q8_0, [GgmlType.Q8_0] },
        { LLamaFtype.MOSTLY_Q4_0, [GgmlType.Q4_0] },
        { LLamaFtype.MOSTLY_Q4_K_M, [GgmlType.Q4_K, GgmlType.Q6_K] },
        { LLamaFtype.MOSTLY_Q6_K, [GgmlType.Q6_K] },
    };

    [Theory]
    [MemberData(nameof(Recipes))]
    public void Every_tensor_llama_cpp_quantizes_to_a_supported_type_equals_ours_byte_for_byte(LLamaFtype recipe, GgmlType[] mustCover)
    {
        var source = Path.Combine(_directory, "f32.gguf");
        SyntheticLlama.Write(source, SyntheticLlamaShape.Small, GgmlType.F32, seed: 20261128);
        var quantized = Path.Combine(_directory, $"{recipe}.gguf");
        NativeLogConfig.llama_log_set((_, _) => { });
        NativeApi.llama_empty_call(); // registers LLamaSharp's native library resolver before the quantizer's own imports
        Assert.True(LLamaQuantizer.Quantize(source, quantized, recipe, nthread: 1), $"llama.cpp failed to quantize to {recipe}");

        using var original = GgufFile.Open(source);
        using var theirs = GgufFile.Open(quantized);
        var compared = new HashSet<GgmlType>();
        foreach (var tensor in theirs.Tensors)
        {
            if (tensor.Type == GgmlType.F32 || !TensorFormats.Supported.Contains(tensor.Type))
            {
                continue;
            }

            var input = original.GetTensor(tensor.Name);
            Assert.Equal(GgmlType.F32, input.Type);
            var columns = (int)tensor.RowLength;
            var rowBytes = (int)TensorFormats.RowBytes(tensor.Type, columns);
            var floats = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(original.GetTensorBytes(input));
            var expected = theirs.GetTensorBytes(tensor);
            var ours = new byte[rowBytes];
            for (var r = 0; r < tensor.Rows; r++)
            {
                TensorFormats.QuantizeRow(tensor.Type, floats.Slice(r * columns, columns), ours, columns);
                var reference = expected.Slice(r * rowBytes, rowBytes);
                if (!reference.SequenceEqual(ours))
                {
                    var at = reference.CommonPrefixLength(ours);
                    Assert.Fail($"{tensor.Name} ({tensor.Type}) row {r} differs from llama.cpp's at byte {at} of {rowBytes}");
                }
            }

            compared.Add(tensor.Type);
        }

        Assert.Superset(new HashSet<GgmlType>(mustCover), compared);
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);
}
