namespace Fathom.Engine.Tokenization;

/// <summary>
/// The load-time fix-ups llama.cpp applies by token text, because GGUF files do not always mark them: known
/// end-of-turn and fill-in-the-middle texts become control tokens, control tokens named "unused" are unused,
/// and a set of texts ends generation.
/// </summary>
internal static class SpecialTokenTexts
{
    private static readonly HashSet<string> EndOfGeneration = new(StringComparer.Ordinal)
    {
        "<|eot_id|>", "<|im_end|>", "<|end|>", "<|return|>", "<|call|>", "<|flush|>", "<|calls|>", "<end_of_turn>",
        "<|endoftext|>", "</s>", "<|eom_id|>", "<EOT>", "_<EOT>", "[EOT]", "[EOS]", "<|end_of_text|>",
        "<end_of_utterance>", "<eos>", "<turn|>", "<|tool_response>", "<｜end▁of▁sentence｜>", "[e~[",
    };

    // End of turn / message and fill-in-the-middle texts: marked as control tokens (end of turn also ends generation).
    private static readonly HashSet<string> ControlLooking = new(StringComparer.Ordinal)
    {
        "<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<|endoftext|>", "<|end_of_text|>", "<EOT>", "_<EOT>",
        "[EOT]", "<｜end▁of▁sentence｜>", "<end_of_utterance>", "<|eom_id|>",
        "<|fim_prefix|>", "<fim-prefix>", "<fim_prefix>", "<｜fim▁begin｜>", "<PRE>", "▁<PRE>", "<|code_prefix|>", "<|prefix|>",
        "<|fim_suffix|>", "<fim-suffix>", "<fim_suffix>", "<｜fim▁hole｜>", "<SUF>", "▁<SUF>", "<|code_suffix|>", "<|suffix|>",
        "<|fim_middle|>", "<fim-middle>", "<fim_middle>", "<｜fim▁end｜>", "<MID>", "▁<MID>", "<|code_middle|>", "<|middle|>",
        "<|fim_pad|>", "<fim-pad>", "<fim_pad>", "<PAD>", "[PAD]",
        "<|fim_repo|>", "<|repo_name|>", "<fim-repo>", "<REPO>", "<reponame>",
        "<|file_sep|>",
    };

    // Fill-in-the-middle pad / repo / file-separator tokens also end generation.
    private static readonly HashSet<string> FimEndOfGeneration = new(StringComparer.Ordinal)
    {
        "<|fim_pad|>", "<fim-pad>", "<fim_pad>", "<PAD>", "[PAD]",
        "<|fim_repo|>", "<|repo_name|>", "<fim-repo>", "<REPO>", "<reponame>",
        "<|file_sep|>",
    };

    /// <summary>
    /// Adjusts <paramref name="attributes"/> in place and returns the end-of-generation ids found by text. Without
    /// <paramref name="normalTokensToo"/> only tokens that are already special (control, user-defined, unknown) are
    /// looked at: in a Hugging Face vocabulary a normal token is text, whatever it spells (Qwen's "&lt;/s&gt;").
    /// </summary>
    public static HashSet<int> Apply(string[] texts, TokenAttributes[] attributes, Dictionary<string, int> ids, bool normalTokensToo = true)
    {
        var endOfGeneration = new HashSet<int>();
        foreach (var (text, id) in ids)
        {
            if (!normalTokensToo && (attributes[id] & (TokenAttributes.Control | TokenAttributes.UserDefined | TokenAttributes.Unknown)) == 0)
            {
                continue;
            }
            if (ControlLooking.Contains(text) || EndOfGeneration.Contains(text))
            {
                attributes[id] |= TokenAttributes.Control;
            }
            if (EndOfGeneration.Contains(text) || FimEndOfGeneration.Contains(text))
            {
                endOfGeneration.Add(id);
            }
            if ((attributes[id] & TokenAttributes.Control) != 0 && text.Contains("unused", StringComparison.Ordinal))
            {
                attributes[id] |= TokenAttributes.Unused;
            }
        }
        _ = texts;
        return endOfGeneration;
    }
}
