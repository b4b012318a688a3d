using System.Text.Json;
using AgentOrchestrator.ModelSimulator.Generation;
using AgentOrchestrator.ModelSimulator.Protocol;

namespace AgentOrchestrator.ModelSimulator.Tests;

public sealed class ReplyPlannerTests
{
    private static readonly ModelSimulatorOptions Options = new() { MinAnswerTokens = 10, MaxAnswerTokens = 20 };

    [Fact]
    public void Plan_SameConversation_GivesSameTokens()
    {
        SimulatedReply first = Plan("sim-1", "What next?");
        SimulatedReply second = Plan("sim-1", "What next?");

        Assert.Equal(first.ContentTokens, second.ContentTokens);
        Assert.InRange(first.ContentTokens.Count, 10, 20);
    }

    [Theory]
    [InlineData("sim-2", "What next?")]
    [InlineData("sim-1", "What now?")]
    public void Plan_DifferentModelOrPrompt_GivesDifferentText(string model, string prompt)
    {
        Assert.NotEqual(Plan("sim-1", "What next?").Text, Plan(model, prompt).Text);
    }

    [Fact]
    public void Plan_Tokens_AreWordsWithLeadingSpaceAfterTheFirst()
    {
        SimulatedReply reply = Plan("sim-1", "Shape?");

        Assert.False(reply.ContentTokens[0].StartsWith(' '));
        Assert.True(char.IsUpper(reply.ContentTokens[0][0]));
        for (int i = 1; i < reply.ContentTokens.Count; i++)
        {
            Assert.StartsWith(" ", reply.ContentTokens[i], StringComparison.Ordinal);
            Assert.DoesNotContain(' ', reply.ContentTokens[i][1..]);
        }

        Assert.EndsWith(".", reply.Text, StringComparison.Ordinal);
    }

    private static SimulatedReply Plan(string model, string prompt)
    {
        var request = new ChatCompletionRequest
        {
            Model = model,
            Messages = [new ChatMessage { Role = "user", Content = JsonSerializer.SerializeToElement(prompt) }],
        };
        return ReplyPlanner.Plan(request, RequestFingerprint.Compute(model, request), Options);
    }
}
