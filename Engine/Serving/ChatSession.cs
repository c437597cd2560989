using System.Runtime.CompilerServices;
using Fathom.Engine.Scheduling;
using Fathom.Engine.Templates.Tools;

namespace Fathom.Engine.Serving;

/// <summary>
/// One chat request on an <see cref="EngineHost"/>: renders the conversation (and tools) with the model's chat
/// template, adds the template's stop strings, submits, and turns the generated text into typed answers —
/// reasoning, content, tool calls, finish reason — either streamed (<see cref="StreamAsync"/>) or whole
/// (<see cref="CompleteAsync"/>). Read it once, one way.
/// </summary>
public sealed class ChatSession
{
    private readonly ServedModel _model;
    private readonly GenerationOutputs _outputs;
    private readonly IToolCallParser? _tools;
    private int _read;

    private ChatSession(ServedModel model, GenerationOutputs outputs, IToolCallParser? tools, int choices)
    {
        _model = model;
        _outputs = outputs;
        _tools = tools;
        ChoiceCount = choices;
    }

    /// <summary>The engine's id of the request.</summary>
    public string RequestId => _outputs.RequestId;

    /// <summary>How many choices (<c>n</c>) are generated.</summary>
    public int ChoiceCount { get; }

    /// <summary>Token counts, once the answer has been read to its end; null before.</summary>
    public GenerationUsage? Usage => _outputs.Usage;

    /// <summary>Renders and submits <paramref name="request"/>; cancelling <paramref name="cancellationToken"/> later aborts it.</summary>
    /// <exception cref="Templates.ChatTemplateException">The template rejected the messages.</exception>
    /// <exception cref="Templates.ToolsNotRenderedException">The request has tools and no template of the model renders them.</exception>
    /// <exception cref="Sampling.InvalidSamplingParameterException">A sampling parameter is out of range, or the response format or tool choice cannot be enforced (the parameter is named).</exception>
    /// <exception cref="RequestRejectedException">The request can never be served (e.g. beyond the context).</exception>
    /// <exception cref="EngineOverloadedException">The engine's waiting queue is full.</exception>
    public static async ValueTask<ChatSession> StartAsync(ServedModel model, EngineHost engine, ChatRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(engine);
        ArgumentNullException.ThrowIfNull(request);
        var format = model.ChatFormat;
        bool hasTools = request.Tools is { Count: > 0 };
        // A template that never reads 'tools' would drop them: the family's bundled template renders them instead.
        var template = hasTools ? format.TemplateForTools() : format.Template;
        int[] prompt = model.EncodeChat(request.Messages, format.RenderOptions(tools: hasTools ? request.Tools : null, extraVariables: request.TemplateVariables), template);
        var sampling = format.Template.StopStrings is { Count: > 0 } templateStops
            ? request.Sampling with { Stop = [.. request.Sampling.Stop ?? [], .. templateStops] }
            : request.Sampling;
        var grammar = ChatConstraints.AnswerGrammar(request, template.Family);
        var constraint = grammar is null ? null : ChatConstraints.Factory(grammar, model.ConstraintTokens, model.ReasoningParser, request.MaxReasoningTokens);
        var engineRequest = new EngineRequest(request.RequestIdPrefix, prompt, sampling) { Constraint = constraint, CacheSalt = request.CacheSalt };
        var outputs = await engine.SubmitAsync(engineRequest, cancellationToken).ConfigureAwait(false);
        bool readCalls = hasTools && request.ToolsEnabled && request.ToolChoice?.Mode != ChatToolChoiceMode.None;
        var tools = readCalls ? template.CreateToolCallParser() : null;
        return new ChatSession(model, outputs, tools, sampling.N);
    }

    /// <summary>
    /// The answer as it is generated: one delta per generated token, per choice (choices interleave). When the
    /// enumeration ends, <see cref="Usage"/> is set.
    /// </summary>
    /// <exception cref="InvalidOperationException">The session was already read.</exception>
    public async IAsyncEnumerable<ChatDelta> StreamAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        BeginRead();
        var parsers = new ChatOutputParser[ChoiceCount];
        await foreach (var output in _outputs.Outputs.ReadAllAsync(cancellationToken).ConfigureAwait(false))
        {
            var parser = parsers[output.Index] ??= new ChatOutputParser(_model.ReasoningParser, _tools);
            yield return parser.Push(output);
        }
    }

    /// <summary>The whole answer, once every choice has finished.</summary>
    /// <exception cref="InvalidOperationException">The session was already read.</exception>
    public async Task<ChatCompletion> CompleteAsync(CancellationToken cancellationToken = default)
    {
        BeginRead();
        var choices = Enumerable.Range(0, ChoiceCount).Select(_ => new ChatOutputParser.Accumulator()).ToArray();
        await foreach (var output in _outputs.Outputs.ReadAllAsync(cancellationToken).ConfigureAwait(false))
        {
            var choice = choices[output.Index];
            choice.Text.Append(output.Text);
            choice.Tokens.Add(output.Token);
            choice.FinishReason = output.FinishReason ?? choice.FinishReason;
        }

        var parsed = choices
            .Select((c, i) => ChatOutputParser.ParseWhole(i, c.Text.ToString(), c.Tokens, c.FinishReason, _model.ReasoningParser, _tools))
            .ToArray();
        return new ChatCompletion(RequestId, parsed, _outputs.Usage!);
    }

    private void BeginRead()
    {
        if (Interlocked.Exchange(ref _read, 1) != 0)
        {
            throw new InvalidOperationException("A chat session's answer can be read only once.");
        }
    }
}
