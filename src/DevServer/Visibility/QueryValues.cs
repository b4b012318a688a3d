namespace AgentOrchestrator.DevServer.Visibility;

internal enum ValueKind
{
    /// <summary>Exact (ordinal) string: system string fields, Keyword and KeywordList elements.</summary>
    String,

    /// <summary>Full-text attribute value: matched by case-insensitive containment.</summary>
    Text,
    Integer,
    Float,

    /// <summary>Stored in <see cref="QueryValue.Long"/> as 0 or 1 so booleans order false &lt; true.</summary>
    Bool,

    /// <summary>An instant stored in <see cref="QueryValue.Long"/> as UTC ticks.</summary>
    Time,
}

/// <summary>A scalar from a record or from the query; a struct so per-record evaluation does not allocate.</summary>
internal readonly record struct QueryValue(ValueKind Kind, string? Str, long Long, double Double)
{
    public static QueryValue FromString(string value) => new(ValueKind.String, value, 0, 0);

    public static QueryValue FromText(string value) => new(ValueKind.Text, value, 0, 0);

    public static QueryValue FromInteger(long value) => new(ValueKind.Integer, null, value, 0);

    public static QueryValue FromFloat(double value) => new(ValueKind.Float, null, 0, value);

    public static QueryValue FromBool(bool value) => new(ValueKind.Bool, null, value ? 1 : 0, 0);

    public static QueryValue FromTime(long utcTicks) => new(ValueKind.Time, null, utcTicks, 0);

    public static QueryValue FromTime(DateTime value) => FromTime(ToUtcTicks(value));

    /// <summary>Records promise UTC; Unspecified is taken as UTC, Local is converted rather than misread.</summary>
    public static long ToUtcTicks(DateTime value) =>
        value.Kind == DateTimeKind.Local ? value.ToUniversalTime().Ticks : value.Ticks;
}

/// <summary>A literal from the query, checked and converted when the query is parsed.</summary>
/// <param name="Value">The literal; for system fields already converted to the field's kind.</param>
/// <param name="TimeTicks">For string literals that are valid RFC 3339: the instant, so Datetime attributes can use it.</param>
internal readonly record struct Operand(QueryValue Value, long? TimeTicks);

internal enum ComparisonOperator
{
    Equal,
    NotEqual,
    Greater,
    GreaterOrEqual,
    Less,
    LessOrEqual,
    In,
    NotIn,
    StartsWith,
    NotStartsWith,
    Between,
    NotBetween,
    IsNull,
    IsNotNull,
}

internal static class ValueMatcher
{
    /// <summary>
    /// Tests one value against a positive operator (negated operators are evaluated as "not positive" by the
    /// caller, so multi-valued attributes get "no element matches" semantics for !=, NOT IN, ...).
    /// </summary>
    public static bool Test(in QueryValue actual, ComparisonOperator op, Operand[] operands)
    {
        if (actual.Kind == ValueKind.Text)
        {
            return TestText(actual.Str!, op, operands);
        }

        switch (op)
        {
            case ComparisonOperator.IsNotNull:
                return true;
            case ComparisonOperator.Equal:
            case ComparisonOperator.In:
                foreach (Operand operand in operands)
                {
                    if (Compare(actual, operand) == 0)
                    {
                        return true;
                    }
                }

                return false;
            case ComparisonOperator.Greater:
                return Compare(actual, operands[0]) is > 0;
            case ComparisonOperator.GreaterOrEqual:
                return Compare(actual, operands[0]) is >= 0;
            case ComparisonOperator.Less:
                return Compare(actual, operands[0]) is < 0;
            case ComparisonOperator.LessOrEqual:
                return Compare(actual, operands[0]) is <= 0;
            case ComparisonOperator.Between:
                return Compare(actual, operands[0]) is >= 0 && Compare(actual, operands[1]) is <= 0;
            case ComparisonOperator.StartsWith:
                return actual.Kind == ValueKind.String
                    && operands[0].Value.Kind == ValueKind.String
                    && actual.Str!.StartsWith(operands[0].Value.Str!, StringComparison.Ordinal);
            default:
                throw new InvalidOperationException($"Operator {op} is not a positive operator.");
        }
    }

    /// <summary>
    /// Text attributes are full-text indexed in Temporal; containment (case-insensitive) is the closest cheap
    /// approximation. Ordering a full-text value is meaningless (Temporal rejects it), so range operators never match.
    /// </summary>
    private static bool TestText(string actual, ComparisonOperator op, Operand[] operands)
    {
        switch (op)
        {
            case ComparisonOperator.IsNotNull:
                return true;
            case ComparisonOperator.Equal:
            case ComparisonOperator.In:
                foreach (Operand operand in operands)
                {
                    if (operand.Value.Kind == ValueKind.String
                        && actual.Contains(operand.Value.Str!, StringComparison.OrdinalIgnoreCase))
                    {
                        return true;
                    }
                }

                return false;
            case ComparisonOperator.StartsWith:
                return operands[0].Value.Kind == ValueKind.String
                    && actual.StartsWith(operands[0].Value.Str!, StringComparison.OrdinalIgnoreCase);
            default:
                return false;
        }
    }

    /// <summary>Sign of actual - operand, or null when the kinds cannot be compared (which never matches).</summary>
    private static int? Compare(in QueryValue actual, in Operand operand)
    {
        QueryValue literal = operand.Value;
        switch (actual.Kind)
        {
            case ValueKind.String:
                return literal.Kind == ValueKind.String ? string.CompareOrdinal(actual.Str, literal.Str) : null;
            case ValueKind.Integer:
                return literal.Kind switch
                {
                    ValueKind.Integer => actual.Long.CompareTo(literal.Long),
                    ValueKind.Float => ((double)actual.Long).CompareTo(literal.Double),
                    _ => null,
                };
            case ValueKind.Float:
                return literal.Kind switch
                {
                    ValueKind.Integer => actual.Double.CompareTo(literal.Long),
                    ValueKind.Float => actual.Double.CompareTo(literal.Double),
                    _ => null,
                };
            case ValueKind.Bool:
                return literal.Kind == ValueKind.Bool ? actual.Long.CompareTo(literal.Long) : null;
            case ValueKind.Time:
                if (literal.Kind == ValueKind.Time)
                {
                    return actual.Long.CompareTo(literal.Long);
                }

                return operand.TimeTicks is long ticks ? actual.Long.CompareTo(ticks) : null;
            default:
                return null;
        }
    }
}
