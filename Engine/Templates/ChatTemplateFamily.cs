namespace Fathom.Engine.Templates;

/// <summary>The known chat formats, recognised by the template's text; they decide the reasoning and tool-call parsers.</summary>
public enum ChatTemplateFamily
{
    /// <summary>A template that matched none of the known formats: rendered as written, no reasoning or tool parser.</summary>
    Unknown,

    /// <summary>ChatML (<c>&lt;|im_start|&gt;role\n…&lt;|im_end|&gt;</c>: Qwen2, and Fathom's fallback).</summary>
    ChatML,

    /// <summary>Llama-2 chat (<c>[INST] &lt;&lt;SYS&gt;&gt;…</c>).</summary>
    Llama2,

    /// <summary>Llama-3 (<c>&lt;|start_header_id|&gt;</c> headers) without tool support in the template.</summary>
    Llama3,

    /// <summary>Llama-3.1 and later: Llama-3 headers plus JSON tool calls (<c>{"name": …, "parameters": …}</c>) and the ipython role.</summary>
    Llama3Tools,

    /// <summary>DeepSeek-R1 (<c>&lt;｜User｜&gt;</c>/<c>&lt;｜Assistant｜&gt;</c>, <c>&lt;think&gt;</c> reasoning, <c>&lt;｜tool▁calls▁begin｜&gt;</c> tool calls).</summary>
    DeepSeekR1,
}
