using Microsoft.Extensions.Options;

namespace AgentOrchestrator.ModelSimulator;

/// <summary>Rejects option values that would make pacing or answer lengths meaningless, at start-up.</summary>
internal sealed class ModelSimulatorOptionsValidator : IValidateOptions<ModelSimulatorOptions>
{
    public ValidateOptionsResult Validate(string? name, ModelSimulatorOptions options)
    {
        var failures = new List<string>();
        if (options.TimeToFirstToken < TimeSpan.Zero)
        {
            failures.Add($"{nameof(options.TimeToFirstToken)} must not be negative.");
        }

        if (!(options.TokensPerSecond > 0) || double.IsInfinity(options.TokensPerSecond))
        {
            failures.Add($"{nameof(options.TokensPerSecond)} must be a positive finite number.");
        }

        if (options.MinAnswerTokens < 1 || options.MaxAnswerTokens < options.MinAnswerTokens)
        {
            failures.Add($"Need 1 <= {nameof(options.MinAnswerTokens)} <= {nameof(options.MaxAnswerTokens)}.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
