using System.Runtime.CompilerServices;
using Fathom.Engine.Model;
using Fathom.Engine.Sampling;
using Fathom.Engine.Scheduling;
using Fathom.Engine.Serving;
using Fathom.Engine.Templates;

namespace Fathom.Cli.Commands.Chat;

/// <summary>
/// A model run in this process through the same serving path as the engine service: <see cref="ServedModel"/> for the
/// weights, tokenizer and chat template, an <see cref="EngineHost"/> for generation and <see cref="ChatSession"/> to
/// render the conversation and split reasoning from the answer.
/// </summary>
internal sealed class LocalChatBackend : IChatBackend
{
    private readonly ServedModel _model;
    private readonly EngineHost _engine;

    private LocalChatBackend(ServedModel model, EngineHost engine)
    {
        _model = model;
        _engine = engine;
    }

    public string ModelName => _model.Name;

    /// <summary>Loads <paramref name="path"/> for chatting, with <paramref name="chatTemplate"/> (a file) in place of its own template when given.</summary>
    public static LocalChatBackend Load(string path, ComputeBackendKind backend, int? threads, string? chatTemplate = null,
        WeightQuantization quantization = WeightQuantization.None)
    {
        var model = ServedModel.Load(path, new ServedModelOptions { Backend = backend, Threads = threads, ChatTemplatePath = chatTemplate, Quantization = quantization });
        try
        {
            return new LocalChatBackend(model, EngineHostFactory.Create(model));
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    public async IAsyncEnumerable<ChatPiece> StreamAsync(IReadOnlyList<ChatLine> messages, ChatSettings settings,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var request = new ChatRequest
        {
            Messages = [.. messages.Select(m => new ChatMessage(m.Role, m.Content))],
            // No limit unless asked: the answer ends at the model's end of turn or the context's end.
            Sampling = new SamplingParams { Temperature = settings.Temperature ?? 1f, MaxTokens = settings.MaxTokens },
            RequestIdPrefix = "chatcmpl-cli",
        };
        ChatSession session;
        try
        {
            session = await ChatSession.StartAsync(_model, _engine, request, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is ChatTemplateException or InvalidSamplingParameterException or RequestRejectedException or EngineOverloadedException)
        {
            throw new ChatBackendException(e.Message, e);
        }

        await foreach (var delta in session.StreamAsync(cancellationToken).ConfigureAwait(false))
        {
            if (!string.IsNullOrEmpty(delta.ReasoningContent) || delta.Content.Length > 0)
            {
                yield return new ChatPiece(delta.ReasoningContent, delta.Content.Length > 0 ? delta.Content : null);
            }
        }

        if (session.Usage is { } usage)
        {
            yield return new ChatPiece(null, null, new ChatTokenCounts(usage.PromptTokens, usage.CompletionTokens, usage.CachedTokens));
        }
    }

    public ValueTask DisposeAsync()
    {
        _engine.Dispose();
        _model.Dispose();
        return ValueTask.CompletedTask;
    }
}
