using System.Diagnostics.CodeAnalysis;
using System.Globalization;

namespace AgentOrchestrator.ModelSimulator.Faults;

/// <summary>
/// Parses per-request fault injection and speed specs.
/// </summary>
/// <remarks>
/// <para>
/// Specs come from the <c>X-Simulator-Fault</c> header, separated by <c>,</c> (e.g. <c>instant, cut:5</c>), and/or
/// from the model name after <c>@</c>, separated by <c>@</c> (e.g. model <c>sim-1@instant@cut:5</c>; the model
/// echoed in responses is then <c>sim-1</c>). Header specs are applied first, then model-suffix specs; when the same
/// setting appears twice, the later one wins. Keywords are case-insensitive; empty items are skipped.
/// </para>
/// <list type="table">
/// <item><term><c>429</c></term><description>Answer 429 with <c>Retry-After: 1</c> and an OpenAI error body.</description></item>
/// <item><term><c>429:retry=S</c></term><description>Same with <c>Retry-After: S</c> (seconds).</description></item>
/// <item><term><c>500</c></term><description>Answer 500 with an OpenAI error body.</description></item>
/// <item><term><c>cut:N</c></term><description>Send N content (or tool-call) deltas, then abort the connection:
/// no finish chunk, no <c>[DONE]</c>. Without streaming, abort before any response is sent.</description></item>
/// <item><term><c>trickle:MS</c></term><description>MS milliseconds between tokens.</description></item>
/// <item><term><c>ttft:MS</c></term><description>MS milliseconds before the first token.</description></item>
/// <item><term><c>instant</c></term><description>No delays (explicit <c>ttft:</c>/<c>trickle:</c> still apply).</description></item>
/// <item><term><c>fail-first:K:KEY</c></term><description>The first K requests carrying KEY get a 500; later ones
/// proceed normally. Counted in memory per simulator instance.</description></item>
/// </list>
/// <para>Any other spec makes the request fail with 400 and a message naming the spec.</para>
/// </remarks>
public static class FaultSpecParser
{
    /// <summary>Request header carrying comma-separated specs.</summary>
    public const string HeaderName = "X-Simulator-Fault";

    /// <summary>Longest accepted <c>ttft:</c> / <c>trickle:</c> value: ten minutes.</summary>
    public const int MaxDelayMilliseconds = 600_000;

    private const string Expected =
        "Expected one of: 429, 429:retry=SECONDS, 500, cut:N, trickle:MS, ttft:MS, instant, fail-first:K:KEY.";

    /// <summary>Splits <c>sim-1@instant@cut:5</c> into <c>sim-1</c> and its specs <c>instant</c>, <c>cut:5</c>.</summary>
    public static string SplitModelName(string model, List<string> specs)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(specs);
        string[] parts = model.Split('@');
        for (int i = 1; i < parts.Length; i++)
        {
            specs.Add(parts[i]);
        }

        return parts[0];
    }

    /// <summary>Adds the comma-separated specs of one header value to <paramref name="specs"/>.</summary>
    public static void SplitHeaderValue(string? headerValue, List<string> specs)
    {
        ArgumentNullException.ThrowIfNull(specs);
        if (!string.IsNullOrEmpty(headerValue))
        {
            specs.AddRange(headerValue.Split(','));
        }
    }

    /// <summary>Parses specs in order; on failure <paramref name="error"/> names the offending spec.</summary>
    public static bool TryParse(
        IEnumerable<string> specs,
        [NotNullWhen(true)] out FaultPlan? plan,
        [NotNullWhen(false)] out string? error)
    {
        ArgumentNullException.ThrowIfNull(specs);
        plan = FaultPlan.None;
        foreach (string raw in specs)
        {
            string spec = raw.Trim();
            if (spec.Length == 0)
            {
                continue;
            }

            FaultPlan? next = Apply(plan, spec);
            if (next is null)
            {
                plan = null;
                error = $"Invalid simulator fault spec '{spec}'. {Expected}";
                return false;
            }

            plan = next;
        }

        error = null;
        return true;
    }

    private static FaultPlan? Apply(FaultPlan plan, string spec)
    {
        if (spec == "429")
        {
            return plan with { FailureStatusCode = 429, RetryAfterSeconds = 1 };
        }

        if (spec == "500")
        {
            return plan with { FailureStatusCode = 500 };
        }

        if (spec.Equals("instant", StringComparison.OrdinalIgnoreCase))
        {
            return plan with { Instant = true };
        }

        int colon = spec.IndexOf(':', StringComparison.Ordinal);
        if (colon < 0)
        {
            return null;
        }

        string keyword = spec[..colon].ToLowerInvariant();
        string argument = spec[(colon + 1)..];
        return keyword switch
        {
            "429" when argument.StartsWith("retry=", StringComparison.OrdinalIgnoreCase)
                && TryParseCount(argument["retry=".Length..], out int seconds)
                => plan with { FailureStatusCode = 429, RetryAfterSeconds = seconds },
            "cut" when TryParseCount(argument, out int tokens) => plan with { CutAfterTokens = tokens },
            "trickle" when TryParseDelay(argument, out TimeSpan interval) => plan with { TokenInterval = interval },
            "ttft" when TryParseDelay(argument, out TimeSpan delay) => plan with { TimeToFirstToken = delay },
            "fail-first" => ApplyFailFirst(plan, argument),
            _ => null,
        };
    }

    private static FaultPlan? ApplyFailFirst(FaultPlan plan, string argument)
    {
        // K:KEY — the key may itself contain ':'.
        int colon = argument.IndexOf(':', StringComparison.Ordinal);
        if (colon < 0 || !TryParseCount(argument[..colon], out int count))
        {
            return null;
        }

        string key = argument[(colon + 1)..].Trim();
        return key.Length == 0 ? null : plan with { FailFirstKey = key, FailFirstCount = count };
    }

    private static bool TryParseCount(string text, out int value) =>
        int.TryParse(text.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out value);

    private static bool TryParseDelay(string text, out TimeSpan delay)
    {
        if (TryParseCount(text, out int milliseconds) && milliseconds <= MaxDelayMilliseconds)
        {
            delay = TimeSpan.FromMilliseconds(milliseconds);
            return true;
        }

        delay = default;
        return false;
    }
}
