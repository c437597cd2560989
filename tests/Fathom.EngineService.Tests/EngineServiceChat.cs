using System.ClientModel;
using Fathom.Testing;
using OpenAI;
using OpenAI.Chat;

namespace Fathom.EngineService.Tests;

/// <summary>The official OpenAI client against the shared engine service.</summary>
internal static class EngineServiceChat
{
    public static ChatClient Chat(this EngineServiceFixture engine) =>
        new(SharedFixtures.Stories260KName, new ApiKeyCredential("unused"), new OpenAIClientOptions { Endpoint = new Uri(engine.BaseAddress, "v1") });
}
