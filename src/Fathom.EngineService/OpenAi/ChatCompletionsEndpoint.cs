using System.Runtime.CompilerServices;
using System.Text.Json;
using Fathom.Engine.Scheduling;
using Fathom.Engine.Serving;
using Fathom.OpenAi.Protocol;

namespace Fathom.EngineService.OpenAi;

/// <summary>
/// <c>POST /v1/chat/completions</c>: OpenAI's chat completions, streaming or not. The <see cref="ChatSession"/> renders,
/// generates and splits the answer (DeepSeek-R1 reasoning, the template family's tool calls); this endpoint only maps
/// its typed results onto the protocol's records.
/// </summary>
internal static class ChatCompletionsEndpoint
{
    public static Task HandleAsync(HttpContext context, ModelHost host) => GenerationCall.HandleAsync(context, host, RespondAsync);

    private static async Task RespondAsync(HttpContext context, ServedModel model, EngineHost engine, JsonElement body)
    {
        var ct = context.RequestAborted;
        var request = SamplingRequest.Parse(body, chat: true, model.GenerationDefaults);
        GenerationCall.CheckModel(request.Model, model);
        var messages = ChatMessages.Parse(body);
        var tools = ChatTools.Parse(body);
        var structured = StructuredOutputRequest.Parse(body);
        var session = await ChatSession.StartAsync(model, engine, new ChatRequest
        {
            Messages = messages,
            Sampling = request.Sampling,
            Tools = tools?.Tools,
            ToolsEnabled = tools?.Enabled ?? false,
            CacheSalt = CacheSaltField.Read(body),
            ToolChoice = structured.ToolChoice,
            ParallelToolCalls = structured.ParallelToolCalls,
            ResponseFormat = structured.ResponseFormat,
            MaxReasoningTokens = structured.MaxReasoningTokens,
            TemplateVariables = ChatTemplateKwargs.Parse(body),
        }, ct);
        string id = $"chatcmpl-{Guid.NewGuid():N}";
        if (request.Stream)
        {
            await EventStreamResponse.WriteAsync(context.Response, Chunks(model, session, request, id, ct), OpenAiJsonContext.Wire.ChatCompletionChunk, ct);
            return;
        }

        var completion = await session.CompleteAsync(ct);
        var response = new ChatCompletionResponse
        {
            Id = id,
            Created = GenerationCall.Created(),
            Model = model.Name,
            Choices = [.. completion.Choices.Select(choice => Fathom.OpenAi.Protocol.ChatChoice.Create(
                choice.Index,
                choice.Content,
                choice.ReasoningContent,
                choice.ToolCalls.Count > 0 ? ProtocolMapping.ToolCalls(choice.ToolCalls) : null,
                request.Sampling.Logprobs ? ProtocolMapping.ChatLogprobs(model.Tokenizer, choice.Tokens) : null,
                ProtocolMapping.FinishReason(choice.FinishReason)))],
            Usage = ProtocolMapping.Usage(completion.Usage),
        };
        context.Response.ContentType = "application/json";
        await JsonSerializer.SerializeAsync(context.Response.Body, response, OpenAiJsonContext.Wire.ChatCompletionResponse, ct);
    }

    // Each choice opens with the role and an empty content, as OpenAI's streams do; a delta that carries nothing
    // (text held back as a possible tag or stop string) is skipped unless its token's log probabilities were asked for.
    private static async IAsyncEnumerable<ChatCompletionChunk> Chunks(ServedModel model, ChatSession session, SamplingRequest request, string id,
        [EnumeratorCancellation] CancellationToken ct)
    {
        long created = GenerationCall.Created();
        var opened = new bool[session.ChoiceCount];
        await foreach (var delta in session.StreamAsync(ct))
        {
            int index = delta.Index;
            if (!opened[index])
            {
                opened[index] = true;
                yield return ChatCompletionChunk.Opening(id, created, model.Name, index, request.IncludeUsage);
            }

            if (delta.IsEmpty && !request.Sampling.Logprobs)
            {
                continue;
            }

            var calls = delta.ToolCalls.Count > 0 ? ProtocolMapping.ToolCalls(delta.ToolCalls, delta.FirstToolCallIndex) : null;
            yield return ChatCompletionChunk.Delta(id, created, model.Name, index,
                Fathom.OpenAi.Protocol.ChatDelta.Of(delta.Content, delta.ReasoningContent, calls),
                request.Sampling.Logprobs ? ProtocolMapping.ChatLogprobs(model.Tokenizer, [delta.Token]) : null,
                ProtocolMapping.FinishReason(delta.FinishReason), calledTools: false, request.IncludeUsage);
        }

        if (request.IncludeUsage)
        {
            yield return ChatCompletionChunk.ForUsage(id, created, model.Name, ProtocolMapping.Usage(session.Usage!));
        }
    }
}
