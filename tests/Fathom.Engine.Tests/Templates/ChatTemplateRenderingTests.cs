using System.Text.Json;
using Fathom.Engine.Templates;
using Fathom.Testing;

namespace Fathom.Engine.Tests.Templates;

/// <summary>
/// Real chat templates rendered against exact expected strings. The expected strings were produced once with
/// Python's jinja2 3.1.6 configured as transformers' apply_chat_template configures it (see Data/generate_expected.py)
/// and are committed as literals; nothing runs Python at test time.
/// </summary>
public sealed class ChatTemplateRenderingTests
{
    private static readonly Dictionary<string, ChatTemplate> Cache = [];

    internal static ChatTemplate Load(string name)
    {
        lock (Cache)
        {
            if (!Cache.TryGetValue(name, out ChatTemplate? template))
            {
                // The DeepSeek-R1 template is the target model's own file in the shared fixtures (not copied here).
                string path = name == "deepseek-r1.jinja"
                    ? SharedFixtures.Default.GetPath("deepseek-r1-distill-llama-70b/chat_template.jinja")
                    : Path.Combine(AppContext.BaseDirectory, "Templates", "Data", name);
                template = ChatTemplate.Parse(File.ReadAllText(path));
                Cache[name] = template;
            }

            return template;
        }
    }

    private static JsonElement Json(string json) => JsonDocument.Parse(json).RootElement.Clone();

    [Fact]
    public void DeepSeekR1_system_and_user_with_generation_prompt()
    {
        ChatMessage[] messages =
        [
            new ChatMessage("system", "You are a helpful assistant."),
            new ChatMessage("user", "What is 2+2?"),
        ];
        var options = new ChatTemplateRenderOptions { AddGenerationPrompt = true, BosToken = "<｜begin▁of▁sentence｜>", EosToken = "<｜end▁of▁sentence｜>" };
        string expected = "<｜begin▁of▁sentence｜>You are a helpful assistant.<｜User｜>What is 2+2?<｜Assistant｜><think>\n";
        Assert.Equal(expected, Load("deepseek-r1.jinja").Render(messages, options));
    }

    [Fact]
    public void DeepSeekR1_multi_turn_cuts_earlier_reasoning()
    {
        ChatMessage[] messages =
        [
            new ChatMessage("user", "Hi!"),
            new ChatMessage("assistant", "<think>\nThe user greets me.\n</think>\n\nHello! How can I help?"),
            new ChatMessage("user", "Tell me a joke."),
            new ChatMessage("assistant", "No thinking here."),
            new ChatMessage("user", "Another one, please."),
        ];
        var options = new ChatTemplateRenderOptions { AddGenerationPrompt = true, BosToken = "<｜begin▁of▁sentence｜>", EosToken = "<｜end▁of▁sentence｜>" };
        string expected = "<｜begin▁of▁sentence｜><｜User｜>Hi!<｜Assistant｜>\n\nHello! How can I help?<｜end▁of▁sentence｜><｜User｜>Tell me a joke.<｜Assistant｜>No thinking here.<｜end▁of▁sentence｜><｜User｜>Another one, please.<｜Assistant｜><think>\n";
        Assert.Equal(expected, Load("deepseek-r1.jinja").Render(messages, options));
    }

    [Fact]
    public void DeepSeekR1_without_generation_prompt()
    {
        ChatMessage[] messages =
        [
            new ChatMessage("user", "Hi"),
            new ChatMessage("assistant", "Hello"),
        ];
        var options = new ChatTemplateRenderOptions { AddGenerationPrompt = false, BosToken = "<｜begin▁of▁sentence｜>", EosToken = "<｜end▁of▁sentence｜>" };
        string expected = "<｜begin▁of▁sentence｜><｜User｜>Hi<｜Assistant｜>Hello<｜end▁of▁sentence｜>";
        Assert.Equal(expected, Load("deepseek-r1.jinja").Render(messages, options));
    }

    [Fact]
    public void DeepSeekR1_tool_call_and_output()
    {
        ChatMessage[] messages =
        [
            new ChatMessage("user", "Weather in Paris?"),
            new ChatMessage("assistant", null) { ToolCalls = [new ChatToolCall("call_1", "get_weather", "{\"city\": \"Paris\"}")] },
            new ChatMessage("tool", "{\"temperature\": 21}") { ToolCallId = "call_1" },
            new ChatMessage("assistant", "It is 21 degrees in Paris."),
            new ChatMessage("user", "Thanks"),
        ];
        var options = new ChatTemplateRenderOptions { AddGenerationPrompt = true, BosToken = "<｜begin▁of▁sentence｜>", EosToken = "<｜end▁of▁sentence｜>", Tools = [Json("{\"type\": \"function\", \"function\": {\"name\": \"get_weather\", \"description\": \"Get the current weather in a city.\", \"parameters\": {\"type\": \"object\", \"properties\": {\"city\": {\"type\": \"string\", \"description\": \"City name, e.g. Zürich\"}, \"unit\": {\"type\": \"string\", \"enum\": [\"celsius\", \"fahrenheit\"]}}, \"required\": [\"city\"]}}}")] };
        string expected = "<｜begin▁of▁sentence｜><｜User｜>Weather in Paris?<｜Assistant｜><｜tool▁calls▁begin｜><｜tool▁call▁begin｜>function<｜tool▁sep｜>get_weather\n```json\n{\"city\": \"Paris\"}\n```<｜tool▁call▁end｜><｜tool▁outputs▁begin｜><｜tool▁output▁begin｜>{\"temperature\": 21}<｜tool▁output▁end｜><｜tool▁outputs▁end｜>It is 21 degrees in Paris.<｜end▁of▁sentence｜><｜User｜>Thanks<｜Assistant｜><think>\n";
        Assert.Equal(expected, Load("deepseek-r1.jinja").Render(messages, options));
    }

    [Fact]
    public void DeepSeekR1_two_tool_calls_and_outputs_end_the_prompt()
    {
        ChatMessage[] messages =
        [
            new ChatMessage("user", "Weather in Paris and Rome?"),
            new ChatMessage("assistant", null) { ToolCalls = [new ChatToolCall("call_1", "get_weather", "{\"city\": \"Paris\"}"), new ChatToolCall("call_2", "get_weather", "{\"city\": \"Rome\"}")] },
            new ChatMessage("tool", "21") { ToolCallId = "call_1" },
            new ChatMessage("tool", "25") { ToolCallId = "call_2" },
        ];
        var options = new ChatTemplateRenderOptions { AddGenerationPrompt = true, BosToken = "<｜begin▁of▁sentence｜>", EosToken = "<｜end▁of▁sentence｜>", Tools = [Json("{\"type\": \"function\", \"function\": {\"name\": \"get_weather\", \"description\": \"Get the current weather in a city.\", \"parameters\": {\"type\": \"object\", \"properties\": {\"city\": {\"type\": \"string\", \"description\": \"City name, e.g. Zürich\"}, \"unit\": {\"type\": \"string\", \"enum\": [\"celsius\", \"fahrenheit\"]}}, \"required\": [\"city\"]}}}")] };
        string expected = "<｜begin▁of▁sentence｜><｜User｜>Weather in Paris and Rome?<｜Assistant｜><｜tool▁calls▁begin｜><｜tool▁call▁begin｜>function<｜tool▁sep｜>get_weather\n```json\n{\"city\": \"Paris\"}\n```<｜tool▁call▁end｜>\n<｜tool▁call▁begin｜>function<｜tool▁sep｜>get_weather\n```json\n{\"city\": \"Rome\"}\n```<｜tool▁call▁end｜><｜tool▁calls▁end｜><｜end▁of▁sentence｜><｜tool▁outputs▁begin｜><｜tool▁output▁begin｜>21<｜tool▁output▁end｜>\n<｜tool▁output▁begin｜>25<｜tool▁output▁end｜><｜tool▁outputs▁end｜>";
        Assert.Equal(expected, Load("deepseek-r1.jinja").Render(messages, options));
    }

    [Fact]
    public void Llama3_system_multi_turn_trims_content()
    {
        ChatMessage[] messages =
        [
            new ChatMessage("system", "You are a pirate."),
            new ChatMessage("user", "  Hello there!\n"),
            new ChatMessage("assistant", "Arr, hello."),
            new ChatMessage("user", "Where is the treasure?"),
        ];
        var options = new ChatTemplateRenderOptions { AddGenerationPrompt = true, BosToken = "<|begin_of_text|>", EosToken = "<|eot_id|>" };
        string expected = "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nYou are a pirate.<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nHello there!<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\nArr, hello.<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nWhere is the treasure?<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n";
        Assert.Equal(expected, Load("llama-3-instruct.jinja").Render(messages, options));
    }

    [Fact]
    public void Llama31_no_tools_has_dates_and_system()
    {
        ChatMessage[] messages =
        [
            new ChatMessage("system", "Be brief. "),
            new ChatMessage("user", "Hi"),
        ];
        var options = new ChatTemplateRenderOptions { AddGenerationPrompt = true, BosToken = "<|begin_of_text|>", EosToken = "<|eot_id|>" };
        string expected = "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nCutting Knowledge Date: December 2023\nToday Date: 26 Jul 2024\n\nBe brief.<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n";
        Assert.Equal(expected, Load("llama-3.1-instruct.jinja").Render(messages, options));
    }

    [Fact]
    public void Llama31_without_system_message()
    {
        ChatMessage[] messages =
        [
            new ChatMessage("user", "Hi"),
            new ChatMessage("assistant", "Hello!"),
            new ChatMessage("user", "Bye"),
        ];
        var options = new ChatTemplateRenderOptions { AddGenerationPrompt = true, BosToken = "<|begin_of_text|>", EosToken = "<|eot_id|>", ExtraVariables = new Dictionary<string, object?> { ["date_string"] = "28 Nov 2026" } };
        string expected = "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nCutting Knowledge Date: December 2023\nToday Date: 28 Nov 2026\n\n<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\nHello!<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nBye<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n";
        Assert.Equal(expected, Load("llama-3.1-instruct.jinja").Render(messages, options));
    }

    [Fact]
    public void Llama31_tools_in_first_user_message_with_call_and_ipython_result()
    {
        ChatMessage[] messages =
        [
            new ChatMessage("system", "You can call tools."),
            new ChatMessage("user", "Weather in Zürich?"),
            new ChatMessage("assistant", null) { ToolCalls = [new ChatToolCall("call_1", "get_weather", "{\"city\": \"Zürich\", \"unit\": \"celsius\"}")] },
            new ChatMessage("tool", "{\"temperature\": 18}") { ToolCallId = "call_1" },
            new ChatMessage("assistant", "It is 18 °C."),
            new ChatMessage("user", "Thanks"),
        ];
        var options = new ChatTemplateRenderOptions { AddGenerationPrompt = true, BosToken = "<|begin_of_text|>", EosToken = "<|eot_id|>", Tools = [Json("{\"type\": \"function\", \"function\": {\"name\": \"get_weather\", \"description\": \"Get the current weather in a city.\", \"parameters\": {\"type\": \"object\", \"properties\": {\"city\": {\"type\": \"string\", \"description\": \"City name, e.g. Zürich\"}, \"unit\": {\"type\": \"string\", \"enum\": [\"celsius\", \"fahrenheit\"]}}, \"required\": [\"city\"]}}}"), Json("{\"type\": \"function\", \"function\": {\"name\": \"get_time\", \"description\": \"Current time <UTC>.\", \"parameters\": {\"type\": \"object\", \"properties\": {}}}}")] };
        string expected = "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nEnvironment: ipython\nCutting Knowledge Date: December 2023\nToday Date: 26 Jul 2024\n\nYou can call tools.<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nGiven the following functions, please respond with a JSON for a function call with its proper arguments that best answers the given prompt.\n\nRespond in the format {\"name\": function name, \"parameters\": dictionary of argument name and its value}.Do not use variables.\n\n{\n    \"type\": \"function\",\n    \"function\": {\n        \"name\": \"get_weather\",\n        \"description\": \"Get the current weather in a city.\",\n        \"parameters\": {\n            \"type\": \"object\",\n            \"properties\": {\n                \"city\": {\n                    \"type\": \"string\",\n                    \"description\": \"City name, e.g. Zürich\"\n                },\n                \"unit\": {\n                    \"type\": \"string\",\n                    \"enum\": [\n                        \"celsius\",\n                        \"fahrenheit\"\n                    ]\n                }\n            },\n            \"required\": [\n                \"city\"\n            ]\n        }\n    }\n}\n\n{\n    \"type\": \"function\",\n    \"function\": {\n        \"name\": \"get_time\",\n        \"description\": \"Current time <UTC>.\",\n        \"parameters\": {\n            \"type\": \"object\",\n            \"properties\": {}\n        }\n    }\n}\n\nWeather in Zürich?<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n{\"name\": \"get_weather\", \"parameters\": {\"city\": \"Zürich\", \"unit\": \"celsius\"}}<|eot_id|><|start_header_id|>ipython<|end_header_id|>\n\n\"{\\\"temperature\\\": 18}\"<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\nIt is 18 °C.<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nThanks<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n";
        Assert.Equal(expected, Load("llama-3.1-instruct.jinja").Render(messages, options));
    }

    [Fact]
    public void Llama31_tools_in_system_message()
    {
        ChatMessage[] messages =
        [
            new ChatMessage("user", "What time is it?"),
        ];
        var options = new ChatTemplateRenderOptions { AddGenerationPrompt = true, BosToken = "<|begin_of_text|>", EosToken = "<|eot_id|>", Tools = [Json("{\"type\": \"function\", \"function\": {\"name\": \"get_time\", \"description\": \"Current time <UTC>.\", \"parameters\": {\"type\": \"object\", \"properties\": {}}}}")], ExtraVariables = new Dictionary<string, object?> { ["tools_in_user_message"] = false } };
        string expected = "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nEnvironment: ipython\nCutting Knowledge Date: December 2023\nToday Date: 26 Jul 2024\n\nYou have access to the following functions. To call a function, please respond with JSON for a function call.Respond in the format {\"name\": function name, \"parameters\": dictionary of argument name and its value}.Do not use variables.\n\n{\n    \"type\": \"function\",\n    \"function\": {\n        \"name\": \"get_time\",\n        \"description\": \"Current time <UTC>.\",\n        \"parameters\": {\n            \"type\": \"object\",\n            \"properties\": {}\n        }\n    }\n}\n\n<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nWhat time is it?<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n";
        Assert.Equal(expected, Load("llama-3.1-instruct.jinja").Render(messages, options));
    }

    [Fact]
    public void Llama31_builtin_tools_use_python_tag_and_eom()
    {
        ChatMessage[] messages =
        [
            new ChatMessage("user", "Search the news"),
            new ChatMessage("assistant", null) { ToolCalls = [new ChatToolCall("call_9", "brave_search", "{\"query\": \"news today\"}")] },
            new ChatMessage("ipython", "Headlines..."),
        ];
        var options = new ChatTemplateRenderOptions { AddGenerationPrompt = true, BosToken = "<|begin_of_text|>", EosToken = "<|eot_id|>", ExtraVariables = new Dictionary<string, object?> { ["builtin_tools"] = new[] { "brave_search", "code_interpreter", "wolfram_alpha" } } };
        string expected = "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nEnvironment: ipython\nTools: brave_search, wolfram_alpha\n\nCutting Knowledge Date: December 2023\nToday Date: 26 Jul 2024\n\n<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nSearch the news<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n<|python_tag|>brave_search.call(query=\"news today\")<|eom_id|><|start_header_id|>ipython<|end_header_id|>\n\n\"Headlines...\"<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n";
        Assert.Equal(expected, Load("llama-3.1-instruct.jinja").Render(messages, options));
    }

    [Fact]
    public void Llama31_two_tool_calls_raise()
    {
        ChatMessage[] messages =
        [
            new ChatMessage("user", "x"),
            new ChatMessage("assistant", null) { ToolCalls = [new ChatToolCall("a", "get_time", "{}"), new ChatToolCall("b", "get_time", "{}")] },
        ];
        var options = new ChatTemplateRenderOptions { AddGenerationPrompt = true, BosToken = "<|begin_of_text|>", EosToken = "<|eot_id|>" };
        var error = Assert.Throws<ChatTemplateException>(() => Load("llama-3.1-instruct.jinja").Render(messages, options));
        Assert.True(error.RaisedByTemplate);
        Assert.Equal("This model only supports single tool-calls at once!", error.Message);
    }

    [Fact]
    public void Llama2_system_folded_into_first_instruction()
    {
        ChatMessage[] messages =
        [
            new ChatMessage("system", "Answer in French."),
            new ChatMessage("user", " Hello "),
            new ChatMessage("assistant", " Bonjour "),
            new ChatMessage("user", "How are you?"),
        ];
        var options = new ChatTemplateRenderOptions { AddGenerationPrompt = true, BosToken = "<s>", EosToken = "</s>" };
        string expected = "<s>[INST] <<SYS>>\nAnswer in French.\n<</SYS>>\n\n Hello [/INST] Bonjour </s><s>[INST] How are you? [/INST]";
        Assert.Equal(expected, Load("llama-2-chat.jinja").Render(messages, options));
    }

    [Fact]
    public void Llama2_without_system()
    {
        ChatMessage[] messages =
        [
            new ChatMessage("user", "Hello"),
        ];
        var options = new ChatTemplateRenderOptions { AddGenerationPrompt = true, BosToken = "<s>", EosToken = "</s>" };
        string expected = "<s>[INST] Hello [/INST]";
        Assert.Equal(expected, Load("llama-2-chat.jinja").Render(messages, options));
    }

    [Fact]
    public void Llama2_roles_must_alternate()
    {
        ChatMessage[] messages =
        [
            new ChatMessage("user", "a"),
            new ChatMessage("user", "b"),
        ];
        var options = new ChatTemplateRenderOptions { AddGenerationPrompt = true, BosToken = "<s>", EosToken = "</s>" };
        var error = Assert.Throws<ChatTemplateException>(() => Load("llama-2-chat.jinja").Render(messages, options));
        Assert.True(error.RaisedByTemplate);
        Assert.Equal("Conversation roles must alternate user/assistant/user/assistant/...", error.Message);
    }

    [Fact]
    public void ChatML_Qwen2_adds_default_system()
    {
        ChatMessage[] messages =
        [
            new ChatMessage("user", "Hi"),
        ];
        var options = new ChatTemplateRenderOptions { AddGenerationPrompt = true };
        string expected = "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n";
        Assert.Equal(expected, Load("qwen2-instruct-chatml.jinja").Render(messages, options));
    }

    [Fact]
    public void ChatML_Qwen2_with_system_and_history()
    {
        ChatMessage[] messages =
        [
            new ChatMessage("system", "Be nice."),
            new ChatMessage("user", "Hi"),
            new ChatMessage("assistant", "Hello."),
            new ChatMessage("user", "Bye"),
        ];
        var options = new ChatTemplateRenderOptions { AddGenerationPrompt = false };
        string expected = "<|im_start|>system\nBe nice.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\nHello.<|im_end|>\n<|im_start|>user\nBye<|im_end|>\n";
        Assert.Equal(expected, Load("qwen2-instruct-chatml.jinja").Render(messages, options));
    }

    [Fact]
    public void MistralNemo_tools_before_last_user_message_and_tool_round_trip()
    {
        ChatMessage[] messages =
        [
            new ChatMessage("system", "Be exact."),
            new ChatMessage("user", "Weather?"),
            new ChatMessage("assistant", null) { ToolCalls = [new ChatToolCall("abcdefghi", "get_weather", "{\"city\": \"Paris\", \"n\": 2.5}")] },
            new ChatMessage("tool", "{\"t\": 20}") { ToolCallId = "abcdefghi" },
            new ChatMessage("assistant", "Warm."),
            new ChatMessage("user", "Thx"),
        ];
        var options = new ChatTemplateRenderOptions { AddGenerationPrompt = true, BosToken = "<s>", EosToken = "</s>", Tools = [Json("{\"type\": \"function\", \"function\": {\"name\": \"get_weather\", \"description\": \"Get the current weather in a city.\", \"parameters\": {\"type\": \"object\", \"properties\": {\"city\": {\"type\": \"string\", \"description\": \"City name, e.g. Zürich\"}, \"unit\": {\"type\": \"string\", \"enum\": [\"celsius\", \"fahrenheit\"]}}, \"required\": [\"city\"]}}}"), Json("{\"type\": \"function\", \"function\": {\"name\": \"get_time\", \"description\": \"Current time <UTC>.\", \"parameters\": {\"type\": \"object\", \"properties\": {}}}}")] };
        string expected = "<s>[INST]Weather?[/INST][TOOL_CALLS][{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\", \"n\": 2.5}, \"id\": \"abcdefghi\"}]</s>[TOOL_RESULTS]{\"content\": {\"t\": 20}, \"call_id\": \"abcdefghi\"}[/TOOL_RESULTS]Warm.</s>[AVAILABLE_TOOLS][{\"type\": \"function\", \"function\": {\"name\": \"get_weather\", \"description\": \"Get the current weather in a city.\", \"parameters\": {\"type\": \"object\", \"properties\": {\"city\": {\"type\": \"string\", \"description\": \"City name, e.g. Zürich\"}, \"unit\": {\"type\": \"string\", \"enum\": [\"celsius\", \"fahrenheit\"]}}, \"required\": [\"city\"]}}}, {\"type\": \"function\", \"function\": {\"name\": \"get_time\", \"description\": \"Current time <UTC>.\", \"parameters\": {\"type\": \"object\", \"properties\": {}}}}][/AVAILABLE_TOOLS][INST]Be exact.\n\nThx[/INST]";
        Assert.Equal(expected, Load("mistral-nemo-instruct-2407.jinja").Render(messages, options));
    }

    [Fact]
    public void MistralNemo_tool_call_ids_must_have_nine_characters()
    {
        ChatMessage[] messages =
        [
            new ChatMessage("user", "x"),
            new ChatMessage("assistant", null) { ToolCalls = [new ChatToolCall("short", "get_time", "{}")] },
        ];
        var options = new ChatTemplateRenderOptions { AddGenerationPrompt = true, BosToken = "<s>", EosToken = "</s>" };
        var error = Assert.Throws<ChatTemplateException>(() => Load("mistral-nemo-instruct-2407.jinja").Render(messages, options));
        Assert.True(error.RaisedByTemplate);
        Assert.Equal("Tool call IDs should be alphanumeric strings with length 9!", error.Message);
    }
}
