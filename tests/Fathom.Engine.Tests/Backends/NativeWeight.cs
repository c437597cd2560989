using System.Runtime.InteropServices;
using Fathom.Engine.Backends;
using Fathom.Engine.Gguf;

namespace Fathom.Engine.Tests.Backends;

/// <summary>A weight matrix of random values encoded in a GGUF type, in unmanaged memory like a mapped file.</summary>
internal sealed unsafe class NativeWeight : IDisposable
{
    private readonly byte* _data;

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

    /// <summary>The stored values, decoded. // (rows, columns)</summary>
    public float[] Values { get; }

    public void Dispose() => NativeMemory.AlignedFree(_data);
}
