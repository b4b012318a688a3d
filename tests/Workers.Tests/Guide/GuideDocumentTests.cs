using System.Text.RegularExpressions;
using AgentOrchestrator.TestSupport;

namespace AgentOrchestrator.Workers.Tests.Guide;

/// <summary>docs/authoring-flows.md shows the code of this folder verbatim: a change to either shows up here.</summary>
public sealed class GuideDocumentTests
{
    [Theory]
    [InlineData("WeatherPlugin.cs", "guide-tool")]
    [InlineData("WeatherBriefWorkflow.workflow.cs", "guide-flow")]
    [InlineData("GuideWorkerFixture.cs", "guide-wiring")]
    [InlineData("WeatherBriefWorkflowV2.workflow.cs", "guide-patch")]
    [InlineData("WeatherAlertWorkflow.workflow.cs", "guide-human")]
    public async Task AuthoringGuide_CodeBlock_MatchesTheTestedSource(string file, string region)
    {
        string root = BuildOutput.RepositoryRoot();
        string source = await File.ReadAllTextAsync(Path.Combine(root, "tests", "Workers.Tests", "Guide", file));
        string guide = await File.ReadAllTextAsync(Path.Combine(root, "docs", "authoring-flows.md"));

        Match match = Regex.Match(source, $@"// <{region}>\n(.*?)\n[ ]*// </{region}>", RegexOptions.Singleline);
        Assert.True(match.Success, $"{file} has no {region} region");
        string[] lines = match.Groups[1].Value.Split('\n');
        int indent = lines.Where(l => l.Trim().Length > 0).Min(l => l.Length - l.TrimStart(' ').Length);
        string code = string.Join('\n', lines.Select(l => l.Length >= indent ? l[indent..] : l.TrimStart(' ')));

        Assert.Contains($"```csharp\n{code}\n```", guide, StringComparison.Ordinal);
    }
}
