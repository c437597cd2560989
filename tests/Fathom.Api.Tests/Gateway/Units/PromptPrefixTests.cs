using System.Text.Json;
using Fathom.Api.Gateway;

namespace Fathom.Api.Tests.Gateway.Units;

public sealed class PromptPrefixTests
{
    private const string System = "You are a storyteller.";

    private static ulong? Hash(string json, int chars = 4096)
    {
        using var body = JsonDocument.Parse(json);
        return PromptPrefix.Hash(body.RootElement, chars);
    }

    private static string Chat(params (string Role, string Content)[] messages) =>
        JsonSerializer.Serialize(new { model = "m", messages = messages.Select(m => new { role = m.Role, content = m.Content }) });

    [Fact]
    public void Every_turn_of_a_conversation_hashes_like_its_first()
    {
        var first = Hash(Chat(("system", System), ("user", "Tell me about the fox.")));
        var third = Hash(Chat(("system", System), ("user", "Tell me about the fox."), ("assistant", "The fox ran."), ("user", "And then?")));

        Assert.NotNull(first);
        Assert.Equal(first, third);
    }

    [Fact]
    public void Conversations_that_share_only_the_system_prompt_hash_apart()
    {
        Assert.NotEqual(
            Hash(Chat(("system", System), ("user", "Tell me about the fox."))),
            Hash(Chat(("system", System), ("user", "Tell me about the owl."))));
    }

    [Fact]
    public void The_role_is_part_of_the_key()
    {
        Assert.NotEqual(Hash(Chat(("user", "Hello"))), Hash(Chat(("system", "Hello"))));
    }

    [Fact]
    public void Only_the_first_chars_of_each_message_count()
    {
        Assert.Equal(
            Hash(Chat(("user", "Once upon a time, a fox.")), chars: 9),
            Hash(Chat(("user", "Once upon a time, an owl.")), chars: 9));
        Assert.NotEqual(
            Hash(Chat(("user", "Once upon a time, a fox.")), chars: 20),
            Hash(Chat(("user", "Once upon a time, an owl.")), chars: 20));
    }

    [Fact]
    public void Content_parts_hash_like_the_same_text_as_a_string()
    {
        var parts = JsonSerializer.Serialize(new
        {
            messages = new[] { new { role = "user", content = new object[] { new { type = "text", text = "Once upon " }, new { type = "image_url" }, new { type = "text", text = "a time" } } } },
        });

        Assert.Equal(Hash(Chat(("user", "Once upon a time"))), Hash(parts));
        // The character budget spans the parts, as it does the string.
        Assert.Equal(Hash(Chat(("user", "Once upon a"))), Hash(parts, chars: 11));
    }

    [Fact]
    public void A_completion_prompt_hashes_by_its_leading_text_and_a_prompt_array_by_its_first_prompt()
    {
        var story = Hash("""{"prompt":"Once upon a time there was a fox."}""", chars: 16);

        Assert.NotNull(story);
        Assert.Equal(story, Hash("""{"prompt":"Once upon a time there was an owl."}""", chars: 16));
        Assert.Equal(story, Hash("""{"prompt":["Once upon a time there was a fox.","Something else"]}""", chars: 16));
        Assert.NotEqual(story, Hash("""{"prompt":"Twice upon a time there was a fox."}""", chars: 16));
    }

    [Fact]
    public void Token_id_prompts_hash_by_their_json_text()
    {
        Assert.Equal(Hash("""{"prompt":[1,2,3]}"""), Hash("""{"prompt":[1,2,3]}"""));
        // Not by the first id alone: most token prompts start with the same BOS id.
        Assert.NotEqual(Hash("""{"prompt":[1,2,3]}"""), Hash("""{"prompt":[1,2,4]}"""));
        Assert.Equal(Hash("""{"prompt":[1,2,3]}"""), Hash("""{"prompt":[[1,2,3],[9]]}"""));
    }

    [Theory]
    [InlineData("""{"model":"m"}""")]
    [InlineData("""{"messages":[]}""")]
    [InlineData("""{"input":"embed me"}""")]
    public void A_body_without_prompt_text_has_no_prefix(string json)
    {
        Assert.Null(Hash(json));
    }

    [Fact]
    public void Prompt_chars_count_every_message_content_or_the_prompt()
    {
        using var chat = JsonDocument.Parse(Chat(("system", "abc"), ("user", "de"), ("assistant", "f")));
        using var completion = JsonDocument.Parse("""{"prompt":"abcd"}""");
        using var neither = JsonDocument.Parse("""{"model":"m"}""");

        // The raw JSON text: each string's quotes count, which the estimate (chars / 4) tolerates.
        Assert.Equal(5 + 4 + 3, PromptPrefix.PromptChars(chat.RootElement));
        Assert.Equal(6, PromptPrefix.PromptChars(completion.RootElement));
        Assert.Equal(0, PromptPrefix.PromptChars(neither.RootElement));
    }

    [Fact]
    public void The_cache_salt_leads_the_key_so_two_keys_route_the_same_prompt_independently()
    {
        string body = Chat(("system", System), ("user", "Tell me about the fox."));
        using var document = JsonDocument.Parse(body);

        var a = PromptPrefix.Hash(document.RootElement, 4096, "salt-of-key-a");
        var b = PromptPrefix.Hash(document.RootElement, 4096, "salt-of-key-b");

        Assert.NotEqual(a, b);
        Assert.Equal(a, PromptPrefix.Hash(document.RootElement, 4096, "salt-of-key-a"));
        Assert.NotEqual(Hash(body), a);
    }
}
