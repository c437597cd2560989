namespace Fathom.Engine.Templates;

/// <summary>
/// What one chat template may spend. Templates come from model files downloaded from the internet, so they are
/// untrusted input (llama-cpp-python's CVE-2024-34359 is the precedent): a template that loops forever, builds a
/// gigabyte string or recurses without end must fail with a <see cref="ChatTemplateLimitException"/> instead of
/// taking the process down. The defaults are far above what real templates need (the tests render a 10,000-message
/// chat with each real template in the repository's test data and fixtures inside them) and far below what hurts a
/// server: a render stopped by a limit has spent at most seconds of CPU and tens of megabytes.
/// </summary>
public sealed record ChatTemplateLimits
{
    /// <summary>The defaults described on each property.</summary>
    public static ChatTemplateLimits Default { get; } = new();

    /// <summary>
    /// Steps one render may take: one per loop iteration and per call (macro, function, method, filter, test),
    /// plus one per 1,024 characters or items that an operation produces or scans, so that work on huge values counts
    /// too. Default 1,000,000: the most expensive real template tested (Qwen3's) spends under 30 steps a message, so
    /// the default covers some 30,000 messages, more than any context window holds, while a million steps of the
    /// interpreter take on the order of a second.
    /// </summary>
    public int MaxSteps { get; init; } = 1_000_000;

    /// <summary>
    /// Characters a render may output (UTF-16 code units). Default 4 Mi (4,194,304): about a million tokens of
    /// text, several times the longest context any served model has, so a longer prompt could not run anyway.
    /// </summary>
    public int MaxOutputLength { get; init; } = 4 * 1024 * 1024;

    /// <summary>
    /// Characters in any one string a template builds (<c>*</c> repetition, <c>+</c>/<c>~</c> concatenation,
    /// <c>join</c>, <c>indent</c>, <c>replace</c>, <c>tojson</c>, <c>string</c>/<c>repr</c>, formatting). Default 4 Mi,
    /// as <see cref="MaxOutputLength"/>: a string longer than the output may be cannot end up in the prompt.
    /// </summary>
    public int MaxStringLength { get; init; } = 4 * 1024 * 1024;

    /// <summary>
    /// Items in any one list a template builds (<c>*</c> repetition, <c>+</c>, <c>range</c>, <c>list</c>,
    /// <c>split</c>). Default 1 Mi (1,048,576): a hundred times the messages of the longest chat.
    /// </summary>
    public int MaxListLength { get; init; } = 1024 * 1024;

    /// <summary>
    /// Nesting depth: of blocks and expressions when the template is parsed (a block, bracket, call, and each link of
    /// an operator, attribute or filter chain counts a level, as each deepens the tree rendering walks), of macro
    /// calls when it renders, and of containers inside containers when a value is printed, compared or
    /// converted (a namespace that holds itself is infinitely deep). Default 200: real templates nest a handful of
    /// levels and JSON tool schemas a few dozen, while 200 levels leave ample room on a 1 MiB thread stack. The
    /// thread's remaining stack is checked as well, so a smaller stack fails the same way instead of overflowing.
    /// </summary>
    public int MaxDepth { get; init; } = 200;

    /// <summary>
    /// Extra variables a request may give the template (<c>chat_template_kwargs</c>, see <see cref="ChatTemplateVariables"/>).
    /// Default 64: the templates tested read a handful (<c>enable_thinking</c>, <c>date_string</c>, <c>tools_in_user_message</c>…).
    /// </summary>
    public int MaxExtraVariables { get; init; } = 64;

    /// <summary>
    /// Characters of JSON all extra variables' values may hold together. Default 64 Ki (65,536): room for a
    /// document or a long system text, while far below what could strain a render.
    /// </summary>
    public int MaxExtraVariablesLength { get; init; } = 64 * 1024;

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> unless every limit is positive.</summary>
    public void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(MaxSteps);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(MaxOutputLength);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(MaxStringLength);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(MaxListLength);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(MaxDepth);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(MaxExtraVariables);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(MaxExtraVariablesLength);
    }
}
