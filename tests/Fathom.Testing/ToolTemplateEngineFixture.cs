namespace Fathom.Testing;

/// <summary>
/// The engine service on stories260K started with <c>--chat-template</c> TestData/llama3-tools.jinja: a short
/// Llama-3-style template that renders tools and tool results (the model file has no template of its own), so
/// its family is Llama-3 JSON tool calls and structured outputs and enforced tool calls can be tested end to end.
/// </summary>
public sealed class ToolTemplateEngineFixture : EngineServiceFixture
{
    /// <summary>Starts the engine with the tool-rendering template.</summary>
    public ToolTemplateEngineFixture()
        : base("--chat-template", TemplatePath)
    {
    }

    /// <summary>Where the template file lies beside the test binaries.</summary>
    public static string TemplatePath { get; } = Path.Combine(AppContext.BaseDirectory, "TestData", "llama3-tools.jinja");
}
