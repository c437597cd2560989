using System.Text.Json;
using Fathom.Engine.Constraints;
using Json.Schema;

namespace Fathom.Engine.Tests.Constraints;

/// <summary>
/// For every supported keyword, over the Llama-3 and stories260K vocabularies: outputs sampled uniformly among the
/// allowed tokens (fixed seeds) are JSON that a real JSON Schema validator (JsonSchema.Net, formats asserted) accepts.
/// </summary>
public sealed class SchemaRandomWalkTests
{
    public static TheoryData<string, string> Cases => TestSchemas.Cases();

    [Theory]
    [MemberData(nameof(Cases))]
    public void Random_walks_produce_json_the_schema_validates(string schemaName, string vocabularyName)
    {
        string schemaText = TestSchemas.All[schemaName];
        var (_, vocabulary) = ConstraintVocabularies.Get(vocabularyName);
        using var schemaDocument = JsonDocument.Parse(schemaText);
        var grammar = Grammar.FromJsonSchema(schemaDocument.RootElement);
        var validator = JsonSchema.FromText(schemaText);
        var options = new EvaluationOptions { RequireFormatValidation = true, OutputFormat = OutputFormat.List };
        for (int seed = 1; seed <= 4; seed++)
        {
            var (text, _) = RandomWalk.Generate(grammar, vocabulary, seed, freeSteps: 10 * seed);
            using var output = JsonDocument.Parse(text);
            var result = validator.Evaluate(output.RootElement, options);
            Assert.True(result.IsValid, $"seed {seed}: {text}\n{JsonSerializer.Serialize(result)}");
        }
    }
}
