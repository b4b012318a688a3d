namespace AgentOrchestrator.DevServer.Visibility;

/// <summary>
/// A parsed visibility query (Temporal's SQL-like List/CountWorkflowExecutions syntax). Immutable and
/// thread-safe: parse once per request, then call <see cref="Matches"/> per record and sort with <see cref="Order"/>.
/// </summary>
/// <remarks>
/// Semantics worth knowing:
/// <list type="bullet">
/// <item>A record without a value for a field (unknown/unset custom attribute, null payload, empty list, open
/// CloseTime, no parent) matches only IS NULL; every comparison, including != and NOT IN, is false.</item>
/// <item>Keyword and system string fields compare ordinally (case-sensitive). Text attributes match by
/// case-insensitive containment for =, !=, IN and STARTS_WITH (prefix); range operators never match Text.</item>
/// <item>KeywordList (and any array value): = / IN / STARTS_WITH / ranges match when any element does;
/// !=, NOT IN, NOT STARTS_WITH, NOT BETWEEN match when no element does.</item>
/// <item>Custom attribute types come from the payload's "type" metadata, so a literal of the wrong type (e.g.
/// a string for an Int attribute) simply does not match; system fields are type-checked at parse time.</item>
/// </list>
/// </remarks>
public sealed class VisibilityQuery
{
    private static readonly IReadOnlyList<string> NoGroupBy = Array.AsReadOnly(Array.Empty<string>());
    private static readonly IReadOnlyList<string> GroupByExecutionStatus =
        Array.AsReadOnly(new[] { nameof(SystemField.ExecutionStatus) });

    /// <summary>Temporal's default listing order: newest first, RunId as the tie-breaker.</summary>
    private static readonly RecordOrderComparer DefaultOrder = new([new OrderKey(SystemField.StartTime, Descending: true)]);

    private readonly QueryNode? filter;

    private VisibilityQuery(QueryNode? filter, IComparer<IVisibilityRecord> order, IReadOnlyList<string> groupBy)
    {
        this.filter = filter;
        Order = order;
        GroupBy = groupBy;
    }

    /// <summary>Empty, or <c>["ExecutionStatus"]</c> for <c>GROUP BY ExecutionStatus</c> (the only supported grouping).</summary>
    public IReadOnlyList<string> GroupBy { get; }

    /// <summary>The ORDER BY keys (system fields only) followed by RunId; StartTime DESC, RunId when no ORDER BY.</summary>
    public IComparer<IVisibilityRecord> Order { get; }

    /// <summary>Parses a query; null, empty or whitespace matches every record.</summary>
    /// <exception cref="VisibilityQueryException">The query is malformed.</exception>
    public static VisibilityQuery Parse(string? query)
    {
        if (string.IsNullOrWhiteSpace(query))
        {
            return new VisibilityQuery(null, DefaultOrder, NoGroupBy);
        }

        ParsedQuery parsed = QueryParser.Parse(query);
        return new VisibilityQuery(
            parsed.Filter,
            parsed.OrderBy is null ? DefaultOrder : new RecordOrderComparer(parsed.OrderBy),
            parsed.GroupByExecutionStatus ? GroupByExecutionStatus : NoGroupBy);
    }

    public bool Matches(IVisibilityRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        return filter is null || filter.Evaluate(record);
    }
}
