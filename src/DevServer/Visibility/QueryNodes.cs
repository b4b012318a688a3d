namespace AgentOrchestrator.DevServer.Visibility;

/// <summary>Parsed filter tree; evaluation loops over arrays (no LINQ) since it runs for every record.</summary>
internal abstract class QueryNode
{
    public abstract bool Evaluate(IVisibilityRecord record);
}

internal sealed class AndNode(QueryNode[] children) : QueryNode
{
    public override bool Evaluate(IVisibilityRecord record)
    {
        foreach (QueryNode child in children)
        {
            if (!child.Evaluate(record))
            {
                return false;
            }
        }

        return true;
    }
}

internal sealed class OrNode(QueryNode[] children) : QueryNode
{
    public override bool Evaluate(IVisibilityRecord record)
    {
        foreach (QueryNode child in children)
        {
            if (child.Evaluate(record))
            {
                return true;
            }
        }

        return false;
    }
}

/// <summary>
/// One condition. Negated operators (!=, NOT IN, NOT BETWEEN, NOT STARTS_WITH, IS NULL) are stored as their
/// positive form plus a flag, and an absent value satisfies only IS NULL (SQL NULL semantics: a record without
/// the attribute matches neither "= x" nor "!= x").
/// </summary>
internal sealed class PredicateNode : QueryNode
{
    private readonly SystemField? systemField;
    private readonly string attributeName;
    private readonly ComparisonOperator positiveOperator;
    private readonly bool negated;
    private readonly bool isNullCheck;
    private readonly Operand[] operands;

    public PredicateNode(SystemField? systemField, string attributeName, ComparisonOperator op, Operand[] operands)
    {
        this.systemField = systemField;
        this.attributeName = attributeName;
        this.operands = operands;
        isNullCheck = op == ComparisonOperator.IsNull;
        (positiveOperator, negated) = op switch
        {
            ComparisonOperator.NotEqual => (ComparisonOperator.Equal, true),
            ComparisonOperator.NotIn => (ComparisonOperator.In, true),
            ComparisonOperator.NotStartsWith => (ComparisonOperator.StartsWith, true),
            ComparisonOperator.NotBetween => (ComparisonOperator.Between, true),
            ComparisonOperator.IsNull => (ComparisonOperator.IsNotNull, true),
            _ => (op, false),
        };
    }

    public override bool Evaluate(IVisibilityRecord record)
    {
        MatchResult result;
        if (systemField is SystemField field)
        {
            result = !SystemFields.TryGetValue(record, field, out QueryValue value) ? MatchResult.Absent
                : ValueMatcher.Test(value, positiveOperator, operands) ? MatchResult.Matched
                : MatchResult.NotMatched;
        }
        else if (record.SearchAttributes.TryGetValue(attributeName, out var payload) && payload is not null)
        {
            result = SearchAttributeReader.Evaluate(payload, positiveOperator, operands);
        }
        else
        {
            result = MatchResult.Absent;
        }

        return result switch
        {
            MatchResult.Absent => isNullCheck,
            MatchResult.Matched => !negated,
            _ => negated,
        };
    }
}

internal readonly record struct OrderKey(SystemField Field, bool Descending);

/// <summary>
/// Orders by the given system fields, then by RunId so the order is total (stable paging). An absent value
/// (e.g. CloseTime of a running execution) sorts after every present value, i.e. last for ASC and first for
/// DESC, like Temporal's SQL visibility treating an open CloseTime as "max".
/// </summary>
internal sealed class RecordOrderComparer(OrderKey[] keys) : IComparer<IVisibilityRecord>
{
    public int Compare(IVisibilityRecord? x, IVisibilityRecord? y)
    {
        if (ReferenceEquals(x, y))
        {
            return 0;
        }

        if (x is null || y is null)
        {
            return x is null ? -1 : 1;
        }

        foreach (OrderKey key in keys)
        {
            bool hasX = SystemFields.TryGetValue(x, key.Field, out QueryValue valueX);
            bool hasY = SystemFields.TryGetValue(y, key.Field, out QueryValue valueY);
            int result = (hasX, hasY) switch
            {
                (false, false) => 0,
                (false, true) => 1,
                (true, false) => -1,
                _ => valueX.Kind == ValueKind.String
                    ? Math.Sign(string.CompareOrdinal(valueX.Str, valueY.Str))
                    : valueX.Long.CompareTo(valueY.Long),
            };

            if (result != 0)
            {
                return key.Descending ? -result : result;
            }
        }

        return Math.Sign(string.CompareOrdinal(x.RunId, y.RunId));
    }
}
