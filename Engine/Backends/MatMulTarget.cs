namespace Fathom.Engine.Backends;

/// <summary>One weight of a matmul and where its output goes: <c>Output (rows, Weight.Rows) = input · Weightᵀ</c>.</summary>
internal readonly record struct MatMulTarget(WeightMatrix Weight, float[] Output);
