using Fathom.Engine.Quantization;
using Fathom.Gguf;

namespace Fathom.Engine.Backends;

/// <summary>
/// A weight tensor as stored in the model file (memory-mapped, any supported type) or repacked at load into one of
/// the <see cref="CheckpointTypes"/>: <see cref="Rows"/> rows of <see cref="Columns"/> elements. A matmul computes
/// <c>y = x · Wᵀ</c>, one output per row.
/// </summary>
internal sealed unsafe class WeightMatrix
{
    public WeightMatrix(string name, GgmlType type, byte* data, int columns, int rows, bool interleaved = false, int[]? columnOrder = null)
    {
        if (columnOrder is not null && columnOrder.Length != columns)
        {
            throw new ArgumentException($"{name}: a column order of {columnOrder.Length} entries for {columns} columns", nameof(columnOrder));
        }

        Name = name;
        Type = type;
        Data = data;
        Columns = columns;
        Rows = rows;
        RowBytes = CheckpointTypes.RowBytes(type, columns);
        Interleaved = interleaved;
        ColumnOrder = columnOrder;
    }

    public string Name { get; }

    public GgmlType Type { get; }

    /// <summary>
    /// First byte of the matrix. // (Rows, Columns) in <see cref="Type"/>'s layout, or
    /// (groups, blocks, group-block) when <see cref="Interleaved"/>
    /// </summary>
    public byte* Data { get; }

    /// <summary>Elements per row (<c>ne0</c>, the input width).</summary>
    public int Columns { get; }

    /// <summary>Rows (<c>ne1</c>, the output width).</summary>
    public int Rows { get; }

    public long RowBytes { get; }

    /// <summary>
    /// Whether the rows are regrouped in <see cref="Quantization.InterleavedLayout"/> (the CPU backend's Q8_0/Q4_0
    /// kernels) or <see cref="Quantization.InterleavedKQuantLayout"/> (Q4_K/Q6_K), in which case there are no
    /// addressable rows.
    /// </summary>
    public bool Interleaved { get; }

    /// <summary>
    /// When not null, stored column i holds logical column <c>ColumnOrder[i]</c> (a GPTQ <c>desc_act</c> checkpoint
    /// whose groups are contiguous only after sorting its <c>g_idx</c>); decoding scatters the row back.
    /// </summary>
    public int[]? ColumnOrder { get; }

    public byte* Row(int row) => Interleaved
        ? throw new InvalidOperationException($"{Name} is interleaved: its rows are not stored one after another")
        : Data + (row * RowBytes);

    public override string ToString() => $"{Name} {CheckpointTypes.Name(Type)} [{Columns}, {Rows}]";
}
