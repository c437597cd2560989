using System.Runtime.InteropServices;
using Fathom.Engine.Backends;
using Fathom.Gguf;
using Fathom.Engine.Quantization;

namespace Fathom.Engine.Tests.Backends;

/// <summary>A weight matrix of random values encoded in a GGUF type, in unmanaged memory like a mapped file.</summary>
internal sealed unsafe class NativeWeight : IDisposable
{
    private readonly byte* _data;
    private byte* _packed;
    private WeightMatrix? _interleaved;

    public NativeWeight(GgmlType type, int columns, int rows, Random random, float scale = 1f)
    {
        var rowBytes = GgmlTypeTraits.RowBytes(type, columns);
        _data = (byte*)NativeMemory.AlignedAlloc((nuint)(rowBytes * rows), 64);
        Values = new float[rows * columns];
        var row = new float[columns];
        for (var r = 0; r < rows; r++)
        {
            for (var i = 0; i < columns; i++)
            {
                row[i] = (float)(random.NextDouble() * 2 - 1) * scale;
            }

            var bytes = TensorEncoding.Encode(type, row);
            bytes.CopyTo(new Span<byte>(_data + (r * rowBytes), (int)rowBytes));
        }

        Matrix = new WeightMatrix("test", type, _data, columns, rows);
        for (var r = 0; r < rows; r++)
        {
            RowDecoder.Decode(type, Matrix.Row(r), Values.AsSpan(r * columns, columns));
        }
    }

    public WeightMatrix Matrix { get; }

    /// <summary>
    /// The same weights regrouped for the CPU backend's interleaved kernels (as the model loader places them), or
    /// <see cref="Matrix"/> where this CPU or type has none.
    /// </summary>
    public WeightMatrix Interleaved
    {
        get
        {
            if (InterleavedKQuantLayout.Supports(Matrix.Type))
            {
                if (_interleaved is null)
                {
                    _packed = (byte*)NativeMemory.AlignedAlloc((nuint)InterleavedKQuantLayout.ByteSize(Matrix.Type, Matrix.Columns, Matrix.Rows), 64);
                    InterleavedKQuantLayout.Pack(Matrix.Type, _data, Matrix.Columns, Matrix.Rows, _packed);
                    _interleaved = new WeightMatrix("test", Matrix.Type, _packed, Matrix.Columns, Matrix.Rows, interleaved: true);
                }

                return _interleaved;
            }

            if (!InterleavedLayout.Supports(Matrix.Type))
            {
                return Matrix;
            }

            if (_interleaved is null)
            {
                _packed = (byte*)NativeMemory.AlignedAlloc((nuint)InterleavedLayout.ByteSize(Matrix.Type, Matrix.Columns, Matrix.Rows), 64);
                InterleavedLayout.Pack(Matrix.Type, _data, Matrix.Columns, Matrix.Rows, _packed);
                _interleaved = new WeightMatrix("test", Matrix.Type, _packed, Matrix.Columns, Matrix.Rows, interleaved: true);
            }

            return _interleaved;
        }
    }

    /// <summary>The stored values, decoded. // (rows, columns)</summary>
    public float[] Values { get; }

    public void Dispose()
    {
        NativeMemory.AlignedFree(_data);
        NativeMemory.AlignedFree(_packed);
    }
}
