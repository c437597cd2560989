using System.Text.RegularExpressions;

namespace Fathom.Engine.Model;

/// <summary>
/// Maps the tensor names of a Transformers Llama/Qwen2 checkpoint to the GGUF names the loader uses
/// (<c>model.layers.3.self_attn.q_proj.weight</c> → <c>blk.3.attn_q.weight</c>), and says which config.json keys
/// decide each tensor's shape, for errors.
/// </summary>
internal static partial class HuggingFaceTensorNames
{
    private static readonly Dictionary<string, string> LayerParts = new(StringComparer.Ordinal)
    {
        ["input_layernorm.weight"] = "attn_norm.weight",
        ["self_attn.q_proj.weight"] = "attn_q.weight",
        ["self_attn.k_proj.weight"] = "attn_k.weight",
        ["self_attn.v_proj.weight"] = "attn_v.weight",
        ["self_attn.q_proj.bias"] = "attn_q.bias",
        ["self_attn.k_proj.bias"] = "attn_k.bias",
        ["self_attn.v_proj.bias"] = "attn_v.bias",
        ["self_attn.o_proj.weight"] = "attn_output.weight",
        ["post_attention_layernorm.weight"] = "ffn_norm.weight",
        ["mlp.gate_proj.weight"] = "ffn_gate.weight",
        ["mlp.up_proj.weight"] = "ffn_up.weight",
        ["mlp.down_proj.weight"] = "ffn_down.weight",
    };

    private static readonly Dictionary<string, string> GgufLayerParts = LayerParts.ToDictionary(p => p.Value, p => p.Key, StringComparer.Ordinal);

    /// <summary>The GGUF name of checkpoint tensor <paramref name="name"/>, or null for one the engine does not use.</summary>
    public static string? ToGguf(string name)
    {
        switch (name)
        {
            case "model.embed_tokens.weight": return "token_embd.weight";
            case "model.norm.weight": return "output_norm.weight";
            case "lm_head.weight": return "output.weight";
        }

        var match = LayerName().Match(name);
        return match.Success && LayerParts.TryGetValue(match.Groups[2].Value, out var part) ? $"blk.{match.Groups[1].Value}.{part}" : null;
    }

    /// <summary>The checkpoint name of GGUF tensor <paramref name="name"/>, or null (the inverse of <see cref="ToGguf"/>).</summary>
    public static string? FromGguf(string name)
    {
        switch (name)
        {
            case "token_embd.weight": return "model.embed_tokens.weight";
            case "output_norm.weight": return "model.norm.weight";
            case "output.weight": return "lm_head.weight";
        }

        var match = GgufLayerName().Match(name);
        return match.Success && GgufLayerParts.TryGetValue(match.Groups[2].Value, out var part) ? $"model.layers.{match.Groups[1].Value}.{part}" : null;
    }

    /// <summary>The config.json keys that decide the shape of the tensor with GGUF name <paramref name="name"/>.</summary>
    public static string ShapeKeys(string name)
    {
        var part = GgufLayerName().Match(name) is { Success: true } m ? m.Groups[2].Value : name;
        return part switch
        {
            "token_embd.weight" or "output.weight" => "vocab_size, hidden_size",
            "attn_q.weight" or "attn_output.weight" => "num_attention_heads × head_dim, hidden_size",
            "attn_k.weight" or "attn_v.weight" => "num_key_value_heads × head_dim, hidden_size",
            "attn_q.bias" => "num_attention_heads × head_dim",
            "attn_k.bias" or "attn_v.bias" => "num_key_value_heads × head_dim",
            "ffn_gate.weight" or "ffn_up.weight" or "ffn_down.weight" => "intermediate_size, hidden_size",
            _ => "hidden_size",
        };
    }

    [GeneratedRegex(@"^model\.layers\.(0|[1-9][0-9]{0,5})\.(.+)$", RegexOptions.CultureInvariant)]
    private static partial Regex LayerName();

    [GeneratedRegex(@"^blk\.(0|[1-9][0-9]{0,5})\.(.+)$", RegexOptions.CultureInvariant)]
    private static partial Regex GgufLayerName();
}
