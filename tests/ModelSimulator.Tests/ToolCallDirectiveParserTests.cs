using AgentOrchestrator.ModelSimulator.Generation;

namespace AgentOrchestrator.ModelSimulator.Tests;

public sealed class ToolCallDirectiveParserTests
{
    [Fact]
    public void Parse_SeveralDirectives_ReturnsThemInOrder()
    {
        List<ToolCallDirective> directives = ToolCallDirectiveParser.Parse(
            "First [[call:Weather-GetForecast {\"city\":\"Oslo\"}]] then [[call:clock]] done.");

        Assert.Equal(
            [new ToolCallDirective("Weather-GetForecast", "{\"city\":\"Oslo\"}"), new ToolCallDirective("clock", "{}")],
            directives);
    }

    [Fact]
    public void Parse_BracesAndClosingMarkersInsideStrings_KeepsArgumentsWhole()
    {
        const string arguments = "{\"q\":\"a]] b} \\\"c{\",\"nested\":{\"list\":[[1],[2]]}}";

        ToolCallDirective directive = Assert.Single(ToolCallDirectiveParser.Parse($"[[call:search {arguments}]]"));

        Assert.Equal(new ToolCallDirective("search", arguments), directive);
    }

    [Theory]
    [InlineData("no directive here")]
    [InlineData("[[call:]]")]
    [InlineData("[[call:open {\"unterminated\": 1]]")]
    [InlineData("[[call:name \"not an object\"]]")]
    [InlineData("[[call:name {} trailing]]")]
    public void Parse_IncompleteOrMalformed_FindsNothing(string text)
    {
        Assert.Empty(ToolCallDirectiveParser.Parse(text));
    }
}
