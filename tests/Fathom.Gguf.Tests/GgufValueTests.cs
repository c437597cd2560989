using Fathom.Gguf;

namespace Fathom.Gguf.Tests;

public sealed class GgufValueTests
{
    [Fact]
    public void Integer_accessors_accept_any_integer_type_whose_value_fits()
    {
        Assert.Equal(7u, GgufValue.FromInt32(7).AsUInt32());
        Assert.Equal(7, GgufValue.FromUInt64(7).AsInt32());
        Assert.Equal(-3L, GgufValue.FromInt8(-3).AsInt64());
        Assert.Equal(uint.MaxValue, GgufValue.FromUInt32(uint.MaxValue).AsUInt64());
        Assert.Throws<InvalidCastException>(() => GgufValue.FromInt32(-1).AsUInt32());
        Assert.Throws<InvalidCastException>(() => GgufValue.FromUInt32(uint.MaxValue).AsInt32());
        Assert.Throws<InvalidCastException>(() => GgufValue.FromFloat32(1).AsInt32());
        Assert.Throws<InvalidCastException>(() => GgufValue.FromString("1").AsUInt32());
    }

    [Fact]
    public void Scalar_accessors_refuse_other_types()
    {
        Assert.Throws<InvalidCastException>(() => GgufValue.FromInt32(1).AsString());
        Assert.Throws<InvalidCastException>(() => GgufValue.FromUInt8(1).AsBool());
        Assert.Throws<InvalidCastException>(() => GgufValue.FromBool(true).AsFloat32());
        Assert.Throws<InvalidCastException>(() => GgufValue.FromString("x").AsArray());
        Assert.Equal(0.5f, GgufValue.FromFloat64(0.5).AsFloat32());
    }

    [Fact]
    public void Signed_and_unsigned_arrays_of_the_same_width_keep_their_sign()
    {
        // The CLR lets sbyte[] pass for byte[] (and int[] for uint[]); element types must decide, not runtime types.
        var signed = GgufValue.FromArray(GgufValueType.Int8, [GgufValue.FromInt8(-120)]);
        var unsigned = GgufValue.FromArray(GgufValueType.UInt8, [GgufValue.FromUInt8(136)]);
        Assert.Equal(-120, signed.AsArray()[0].AsInt32());
        Assert.Equal(136, unsigned.AsArray()[0].AsInt32());
        Assert.Equal([-120], signed.AsInt32Array());
        Assert.NotEqual(signed, unsigned);

        var uints = GgufValue.FromUInt32Array([uint.MaxValue]);
        Assert.Throws<InvalidCastException>(() => uints.AsInt32Array());
        Assert.Equal(uint.MaxValue, uints.AsArray()[0].AsUInt32());
    }

    [Fact]
    public void Int32_arrays_accept_narrower_integer_arrays()
    {
        var shorts = GgufValue.FromArray(GgufValueType.Int16, [GgufValue.FromInt16(-5), GgufValue.FromInt16(300)]);
        Assert.Equal([-5, 300], shorts.AsInt32Array());
        Assert.Throws<InvalidCastException>(() => GgufValue.FromStringArray(["a"]).AsInt32Array());
        Assert.Throws<InvalidCastException>(() => GgufValue.FromInt32Array([1]).AsStringArray());
    }

    [Fact]
    public void Typed_arrays_are_copies()
    {
        var value = GgufValue.FromFloat32Array([1f, 2f]);
        value.AsFloat32Array()[0] = 99f;
        Assert.Equal(1f, value.AsFloat32Array()[0]);
    }

    [Fact]
    public void Arrays_must_hold_one_element_type()
    {
        Assert.Throws<ArgumentException>(() => GgufValue.FromArray(GgufValueType.Int32, [GgufValue.FromInt32(1), GgufValue.FromUInt32(1)]));
        Assert.Throws<ArgumentException>(() => GgufValue.FromStringArray(["a", null!]));
    }

    [Fact]
    public void Long_arrays_are_summarised_for_display()
    {
        var tokens = GgufValue.FromStringArray(Enumerable.Range(0, 1000).Select(i => $"t{i}").ToArray());
        Assert.Equal("[1000 items: \"t0\", \"t1\", \"t2\", …]", tokens.ToDisplayString(3));
        Assert.Equal("[1, 2]", GgufValue.FromInt32Array([1, 2]).ToDisplayString());
        Assert.Equal("\"a\\nb\"", GgufValue.FromString("a\nb").ToDisplayString());
    }
}
