using System.Text.Json;
using Microsoft.Extensions.AI;

namespace Fathom.Connector.Wire;

/// <summary>Turns Microsoft.Extensions.AI messages and <see cref="ChatOptions"/> into an OpenAI request body.</summary>
internal static class ChatRequestMapper
{
    public static ChatCompletionRequest ToRequest(
        IEnumerable<ChatMessage> messages, ChatOptions? options, string defaultModelId, bool stream)
    {
        var wireMessages = new List<WireMessage>();
        if (!string.IsNullOrEmpty(options?.Instructions))
        {
            wireMessages.Add(new WireMessage { Role = "system", Content = JsonString(options.Instructions) });
        }

        foreach (var message in messages)
        {
            AddMessage(wireMessages, message);
        }

        var request = new ChatCompletionRequest
        {
            Model = options?.ModelId ?? defaultModelId,
            Messages = wireMessages,
        };

        if (stream)
        {
            request.Stream = true;
            request.StreamOptions = new WireStreamOptions { IncludeUsage = true };
        }

        if (options is not null)
        {
            ApplyOptions(request, options);
        }

        return request;
    }

    private static void ApplyOptions(ChatCompletionRequest request, ChatOptions options)
    {
        request.Temperature = options.Temperature;
        request.TopP = options.TopP;
        request.TopK = options.TopK;
        request.MaxTokens = options.MaxOutputTokens;
        request.Seed = options.Seed;
        request.FrequencyPenalty = options.FrequencyPenalty;
        request.PresencePenalty = options.PresencePenalty;
        if (options.StopSequences is { Count: > 0 } stop)
        {
            request.Stop = [.. stop];
        }

        request.ResponseFormat = options.ResponseFormat switch
        {
            ChatResponseFormatJson { Schema: { } schema } json => new WireResponseFormat
            {
                Type = "json_schema",
                JsonSchema = new WireJsonSchema
                {
                    Name = json.SchemaName ?? "response",
                    Description = json.SchemaDescription,
                    Schema = schema,
                },
            },
            ChatResponseFormatJson => new WireResponseFormat { Type = "json_object" },
            ChatResponseFormatText => new WireResponseFormat { Type = "text" },
            _ => null,
        };

        ApplyTools(request, options);
        ApplyAdditionalProperties(request, options.AdditionalProperties);
    }

    private static void ApplyTools(ChatCompletionRequest request, ChatOptions options)
    {
        if (options.Tools is not { Count: > 0 } tools)
        {
            return;
        }

        request.Tools = [];
        foreach (var tool in tools)
        {
            if (tool is AIFunctionDeclaration function)
            {
                request.Tools.Add(new WireTool
                {
                    Function = new WireFunctionDefinition
                    {
                        Name = function.Name,
                        Description = string.IsNullOrEmpty(function.Description) ? null : function.Description,
                        Parameters = function.JsonSchema,
                    },
                });
            }
        }

        if (request.Tools.Count == 0)
        {
            request.Tools = null;
            return;
        }

        request.ToolChoice = options.ToolMode switch
        {
            NoneChatToolMode => JsonString("none"),
            AutoChatToolMode => JsonString("auto"),
            RequiredChatToolMode { RequiredFunctionName: { } name } => NamedToolChoice(name),
            RequiredChatToolMode => JsonString("required"),
            _ => null,
        };
        request.ParallelToolCalls = options.AllowMultipleToolCalls;
    }

    private static void ApplyAdditionalProperties(ChatCompletionRequest request, AdditionalPropertiesDictionary? properties)
    {
        if (properties is null)
        {
            return;
        }

        foreach (var (key, value) in properties)
        {
            if (value is null || key.Length == 0 || TryApplyTypedField(request, key, value))
            {
                continue;
            }

            // Values arrive typed (from code) or as JsonElements (from SK's settings round trip); both serialize as-is.
            // Values that are not data (a service, a kernel) are not request fields and are left out.
            JsonElement element;
            try
            {
                element = value as JsonElement? ?? JsonSerializer.SerializeToElement(value, value.GetType(), AIJsonUtilities.DefaultOptions);
            }
            catch (Exception ex) when (ex is NotSupportedException or JsonException or InvalidOperationException)
            {
                continue;
            }

            (request.Extra ??= [])[key] = element;
        }
    }

    /// <summary>
    /// A key that names a typed request field (e.g. <c>top_k</c> given through AdditionalProperties) fills that field
    /// when ChatOptions left it unset, and is never written twice. Returns whether the key was such a field.
    /// </summary>
    private static bool TryApplyTypedField(ChatCompletionRequest request, string key, object value)
    {
        switch (key)
        {
            case "temperature":
                request.Temperature ??= (float?)Number(value);
                return true;
            case "top_p":
                request.TopP ??= (float?)Number(value);
                return true;
            case "top_k":
                request.TopK ??= (int?)Number(value);
                return true;
            case "max_tokens" or "max_completion_tokens":
                request.MaxTokens ??= (int?)Number(value);
                return true;
            case "seed":
                request.Seed ??= (long?)Number(value);
                return true;
            case "frequency_penalty":
                request.FrequencyPenalty ??= (float?)Number(value);
                return true;
            case "presence_penalty":
                request.PresencePenalty ??= (float?)Number(value);
                return true;
            case "model" or "messages" or "stream" or "stream_options" or "stop" or "response_format" or "tools" or "tool_choice" or "parallel_tool_calls":
                return true;
            default:
                return false;
        }
    }

    private static double? Number(object value) => value switch
    {
        JsonElement { ValueKind: JsonValueKind.Number } element => element.GetDouble(),
        JsonElement { ValueKind: JsonValueKind.String } element when double.TryParse(element.GetString(), System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var parsed) => parsed,
        IConvertible convertible and not string => convertible.ToDouble(System.Globalization.CultureInfo.InvariantCulture),
        string text when double.TryParse(text, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var parsed) => parsed,
        _ => null,
    };

    private static void AddMessage(List<WireMessage> wireMessages, ChatMessage message)
    {
        var role = message.Role.Value;
        List<WireContentPart>? parts = null;
        List<WireToolCall>? toolCalls = null;
        var text = new System.Text.StringBuilder();
        var hasText = false;

        foreach (var content in message.Contents)
        {
            switch (content)
            {
                case TextContent textContent:
                    text.Append(textContent.Text);
                    hasText = true;
                    (parts ??= []).Add(new WireContentPart { Type = "text", Text = textContent.Text });
                    break;
                case UriContent { } uri when uri.HasTopLevelMediaType("image"):
                    (parts ??= []).Add(ImagePart(uri.Uri.ToString()));
                    break;
                case DataContent { } data when data.HasTopLevelMediaType("image"):
                    (parts ??= []).Add(ImagePart(data.Uri));
                    break;
                case FunctionCallContent call:
                    (toolCalls ??= []).Add(new WireToolCall
                    {
                        Id = call.CallId,
                        Type = "function",
                        Function = new WireFunctionCall
                        {
                            Name = call.Name,
                            Arguments = ArgumentsJson(call),
                        },
                    });
                    break;
                case FunctionResultContent result:
                    wireMessages.Add(new WireMessage
                    {
                        Role = "tool",
                        ToolCallId = result.CallId,
                        Content = JsonString(ResultText(result.Result)),
                    });
                    break;

                // Reasoning from earlier turns is not sent back: R1-style templates drop it from history.
                default:
                    break;
            }
        }

        var onlyText = parts is not null && parts.All(p => p.Type == "text");
        JsonElement? wireContent = parts is null ? null
            : onlyText ? JsonString(text.ToString())
            : JsonSerializer.SerializeToElement(parts, FathomJsonContext.Default.ListWireContentPart);

        if (wireContent is null && toolCalls is null)
        {
            // A tool message carried only results (already added); an empty user/system message still goes as "".
            if (role == ChatRole.Tool.Value || message.Contents.Any(c => c is FunctionResultContent))
            {
                return;
            }

            wireContent = JsonString(hasText ? text.ToString() : string.Empty);
        }

        wireMessages.Add(new WireMessage
        {
            Role = role,
            Name = message.AuthorName,
            Content = wireContent,
            ToolCalls = toolCalls,
        });
    }

    private static WireContentPart ImagePart(string url) =>
        new() { Type = "image_url", ImageUrl = new WireImageUrl { Url = url } };

    /// <summary>A call's arguments as the JSON text OpenAI's wire (and chat templates) carry.</summary>
    internal static string ArgumentsJson(FunctionCallContent call) =>
        JsonSerializer.Serialize(call.Arguments ?? new Dictionary<string, object?>(), AIJsonUtilities.DefaultOptions.GetTypeInfo(typeof(IDictionary<string, object?>)));

    /// <summary>A function result as the text of a <c>tool</c> message.</summary>
    internal static string ResultText(object? result) => result switch
    {
        null => string.Empty,
        string s => s,
        JsonElement { ValueKind: JsonValueKind.String } e => e.GetString() ?? string.Empty,
        _ => JsonSerializer.Serialize(result, result.GetType(), AIJsonUtilities.DefaultOptions),
    };

    private static JsonElement NamedToolChoice(string name)
    {
        var choice = new Dictionary<string, JsonElement>
        {
            ["type"] = JsonString("function"),
            ["function"] = JsonSerializer.SerializeToElement(
                new Dictionary<string, JsonElement> { ["name"] = JsonString(name) },
                FathomJsonContext.Default.DictionaryStringJsonElement),
        };
        return JsonSerializer.SerializeToElement(choice, FathomJsonContext.Default.DictionaryStringJsonElement);
    }

    private static JsonElement JsonString(string value) =>
        JsonSerializer.SerializeToElement(value, FathomJsonContext.Default.String);
}
