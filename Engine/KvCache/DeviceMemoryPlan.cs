using System.Globalization;

namespace Fathom.Engine.KvCache;

/// <summary>
/// How a device's memory is shared out with <c>--gpu-memory-utilization</c> (vLLM's meaning): of
/// <see cref="TotalBytes"/> × <see cref="Utilization"/>, what the weights and everything else already on the
/// device use and a reserve for one step's activations are taken off, and the KV cache gets whole blocks of the rest.
/// </summary>
/// <param name="TotalBytes">Device memory.</param>
/// <param name="Utilization">Fraction of <paramref name="TotalBytes"/> this process may use, in (0, 1].</param>
/// <param name="WeightBytes">Weights on the device.</param>
/// <param name="UsedBytes">Device memory in use before the KV cache (the weights, the runtime's own, other processes' where the driver counts them).</param>
/// <param name="ReservedBytes">Kept free for step activations.</param>
/// <param name="BlockBytes">Device bytes of one KV block (all layers, K and V).</param>
/// <param name="Blocks">KV blocks allocated.</param>
/// <param name="BlockSize">Tokens per block.</param>
/// <param name="ContextLength">The model's context length.</param>
/// <param name="KvDataType">The element type the device cache holds (f16, or fp8 at half the bytes a block).</param>
public sealed record DeviceMemoryPlan(long TotalBytes, double Utilization, long WeightBytes, long UsedBytes, long ReservedBytes, long BlockBytes, int Blocks, int BlockSize, int ContextLength, KvCacheDataType KvDataType = KvCacheDataType.F16)
{
    /// <summary>Bytes of the KV cache.</summary>
    public long KvBytes => BlockBytes * Blocks;

    /// <summary>Sequences of the full context the cache holds at once.</summary>
    public int MaxSequencesAtContext => Blocks / Math.Max(1, (ContextLength + BlockSize - 1) / BlockSize);

    /// <summary>Plans the KV cache; <paramref name="maxBlocks"/> caps it (the kernels index a layer with 32 bits).</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="utilization"/> is not in (0, 1], or a size is not positive.</exception>
    /// <exception cref="InsufficientDeviceMemoryException">Not one block fits.</exception>
    public static DeviceMemoryPlan Plan(long totalBytes, double utilization, long weightBytes, long usedBytes, long reservedBytes, long blockBytes, int blockSize, int contextLength, int maxBlocks, KvCacheDataType kvDataType = KvCacheDataType.F16)
    {
        if (!(utilization > 0 && utilization <= 1))
        {
            throw new ArgumentOutOfRangeException(nameof(utilization), utilization, "--gpu-memory-utilization is a fraction in (0, 1]");
        }

        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(totalBytes);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(blockBytes);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(blockSize);
        var budget = (long)(totalBytes * utilization) - usedBytes - reservedBytes;
        var blocks = (int)Math.Clamp(budget / blockBytes, 0, maxBlocks);
        var plan = new DeviceMemoryPlan(totalBytes, utilization, weightBytes, usedBytes, reservedBytes, blockBytes, blocks, blockSize, contextLength, kvDataType);
        if (blocks < 1)
        {
            throw new InsufficientDeviceMemoryException(
                $"--gpu-memory-utilization {utilization.ToString("0.###", CultureInfo.InvariantCulture)} of {Gb(totalBytes)} leaves no room for one {Gb(blockBytes)} KV block: "
                + $"{Gb(usedBytes)} is in use after the weights ({Gb(weightBytes)}) and {Gb(reservedBytes)} is kept for activations; raise the fraction or use a smaller model");
        }

        return plan;
    }

    /// <summary>One line for the start-up log: weights, KV bytes, blocks, and concurrent sequences at the model's context.</summary>
    public override string ToString() => string.Create(
        CultureInfo.InvariantCulture,
        $"device memory {Gb(TotalBytes)} x {Utilization:0.###}: weights {Gb(WeightBytes)}, in use before the KV cache {Gb(UsedBytes)}, activation reserve {Gb(ReservedBytes)}; "
        + $"KV cache ({KvCacheDataTypes.ToName(KvDataType)}) {Gb(KvBytes)} = {Blocks} blocks of {BlockSize} tokens ({Blocks * (long)BlockSize} tokens), {MaxSequencesAtContext} concurrent sequences at the {ContextLength}-token context");

    private static string Gb(long bytes) => string.Create(CultureInfo.InvariantCulture, $"{bytes / 1e9:0.###} GB");
}
