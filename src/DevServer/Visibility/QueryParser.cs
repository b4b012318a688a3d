using System.Globalization;

namespace AgentOrchestrator.DevServer.Visibility;

internal sealed record ParsedQuery(QueryNode? Filter, OrderKey[]? OrderBy, bool GroupByExecutionStatus);

/// <summary>
/// Recursive-descent parser for Temporal's SQL-like visibility syntax:
/// <code>
/// query     := [or] { ORDER BY orderKey {, orderKey} | GROUP BY field }     (each clause at most once)
/// or        := and { OR and }
/// and       := primary { AND primary }
/// primary   := '(' or ')' | predicate
/// predicate := field ( cmpOp value | [NOT] IN '(' value {, value} ')' | [NOT] STARTS_WITH string
///                    | [NOT] BETWEEN value AND value | IS [NOT] NULL )
/// </code>
/// Literals are checked against system fields here, so type errors surface as parse errors.
/// </summary>
internal sealed class QueryParser
{
    /// <summary>Bounds recursion: a deeply parenthesised query must not overflow the server's stack.</summary>
    private const int MaxNestingDepth = 64;

    private static readonly string[] ReservedWords =
    [
        "AND", "OR", "NOT", "IN", "IS", "NULL", "BETWEEN", "STARTS_WITH", "ORDER", "GROUP", "BY", "ASC", "DESC",
        "TRUE", "FALSE",
    ];

    private readonly List<Token> tokens;
    private int index;
    private int depth;

    private QueryParser(List<Token> tokens) => this.tokens = tokens;

    private Token Current => tokens[index];

    public static ParsedQuery Parse(string query)
    {
        var parser = new QueryParser(QueryTokenizer.Tokenize(query));
        return parser.ParseQuery();
    }

    private Token Advance() => tokens[index++];

    private ParsedQuery ParseQuery()
    {
        QueryNode? filter = null;
        if (!Current.IsKeyword("ORDER") && !Current.IsKeyword("GROUP") && Current.Kind != TokenKind.End)
        {
            filter = ParseOr();
        }

        OrderKey[]? orderBy = null;
        bool groupBy = false;
        while (Current.Kind != TokenKind.End)
        {
            Token clause = Current;
            if (clause.IsKeyword("ORDER") && orderBy is null)
            {
                Advance();
                ExpectKeyword("BY", "after ORDER");
                orderBy = ParseOrderKeys();
            }
            else if (clause.IsKeyword("GROUP") && !groupBy)
            {
                Advance();
                ExpectKeyword("BY", "after GROUP");
                ParseGroupBy();
                groupBy = true;
            }
            else if (clause.IsKeyword("ORDER") || clause.IsKeyword("GROUP"))
            {
                throw QueryErrors.At($"duplicate {clause.Text.ToUpperInvariant()} BY clause", clause.Position);
            }
            else
            {
                string expected = orderBy is null && !groupBy
                    ? "expected AND, OR, ORDER BY, GROUP BY or end of query"
                    : "expected ORDER BY, GROUP BY or end of query";
                throw Unexpected(clause, expected);
            }
        }

        return new ParsedQuery(filter, orderBy, groupBy);
    }

    private QueryNode ParseOr()
    {
        QueryNode first = ParseAnd();
        if (!Current.IsKeyword("OR"))
        {
            return first;
        }

        var children = new List<QueryNode> { first };
        while (Current.IsKeyword("OR"))
        {
            Advance();
            children.Add(ParseAnd());
        }

        return new OrNode([.. children]);
    }

    private QueryNode ParseAnd()
    {
        QueryNode first = ParsePrimary();
        if (!Current.IsKeyword("AND"))
        {
            return first;
        }

        var children = new List<QueryNode> { first };
        while (Current.IsKeyword("AND"))
        {
            Advance();
            children.Add(ParsePrimary());
        }

        return new AndNode([.. children]);
    }

    private QueryNode ParsePrimary()
    {
        if (Current.Kind != TokenKind.LeftParen)
        {
            return ParsePredicate();
        }

        Token open = Advance();
        if (++depth > MaxNestingDepth)
        {
            throw QueryErrors.At($"parentheses nested deeper than {MaxNestingDepth} levels", open.Position);
        }

        QueryNode inner = ParseOr();
        if (Current.Kind != TokenKind.RightParen)
        {
            throw Unexpected(Current, $"expected ')' to close the '(' at position {open.Position + 1}");
        }

        Advance();
        depth--;
        return inner;
    }

    private PredicateNode ParsePredicate()
    {
        Token fieldToken = Current;
        (SystemField? field, string name) = ParseFieldName("expected a search attribute name or '('");
        Token opToken = Current;
        ComparisonOperator op;
        Operand[] operands;
        if (opToken.Kind == TokenKind.Operator)
        {
            Advance();
            op = opToken.Text switch
            {
                "=" => ComparisonOperator.Equal,
                "!=" or "<>" => ComparisonOperator.NotEqual,
                ">" => ComparisonOperator.Greater,
                ">=" => ComparisonOperator.GreaterOrEqual,
                "<" => ComparisonOperator.Less,
                _ => ComparisonOperator.LessOrEqual, // the tokenizer only produces the seven valid operators
            };
            operands = [ParseValue()];
        }
        else if (opToken.IsKeyword("IN"))
        {
            Advance();
            op = ComparisonOperator.In;
            operands = ParseValueList();
        }
        else if (opToken.IsKeyword("STARTS_WITH"))
        {
            Advance();
            op = ComparisonOperator.StartsWith;
            operands = [ParseValue()];
        }
        else if (opToken.IsKeyword("BETWEEN"))
        {
            Advance();
            op = ComparisonOperator.Between;
            operands = ParseBetweenBounds();
        }
        else if (opToken.IsKeyword("NOT"))
        {
            Advance();
            Token negatedOp = Current;
            if (negatedOp.IsKeyword("IN"))
            {
                Advance();
                op = ComparisonOperator.NotIn;
                operands = ParseValueList();
            }
            else if (negatedOp.IsKeyword("STARTS_WITH"))
            {
                Advance();
                op = ComparisonOperator.NotStartsWith;
                operands = [ParseValue()];
            }
            else if (negatedOp.IsKeyword("BETWEEN"))
            {
                Advance();
                op = ComparisonOperator.NotBetween;
                operands = ParseBetweenBounds();
            }
            else
            {
                throw Unexpected(negatedOp, "expected IN, BETWEEN or STARTS_WITH after NOT");
            }
        }
        else if (opToken.IsKeyword("IS"))
        {
            Advance();
            op = ComparisonOperator.IsNull;
            if (Current.IsKeyword("NOT"))
            {
                Advance();
                op = ComparisonOperator.IsNotNull;
            }

            ExpectKeyword("NULL", op == ComparisonOperator.IsNull ? "after IS" : "after IS NOT");
            operands = [];
        }
        else
        {
            throw Unexpected(
                opToken,
                $"expected an operator (=, !=, <>, >, >=, <, <=, IN, NOT IN, STARTS_WITH, BETWEEN, IS NULL) after '{name}'");
        }

        if (field is SystemField systemField)
        {
            operands = BindSystemOperands(systemField, op, opToken, operands);
        }
        else if (op is ComparisonOperator.StartsWith or ComparisonOperator.NotStartsWith
            && operands[0].Value.Kind != ValueKind.String)
        {
            throw QueryErrors.At($"STARTS_WITH on '{name}' expects a string value", fieldToken.Position);
        }

        return new PredicateNode(field, name, op, operands);
    }

    private Operand[] ParseBetweenBounds()
    {
        Operand lower = ParseValue();
        ExpectKeyword("AND", "between the BETWEEN bounds");
        Operand upper = ParseValue();
        return [lower, upper];
    }

    private Operand[] ParseValueList()
    {
        Token open = Current;
        if (open.Kind != TokenKind.LeftParen)
        {
            throw Unexpected(open, "expected '(' to start the IN list");
        }

        Advance();
        if (Current.Kind == TokenKind.RightParen)
        {
            throw QueryErrors.At("IN list must not be empty", Current.Position);
        }

        var values = new List<Operand> { ParseValue() };
        while (Current.Kind == TokenKind.Comma)
        {
            Advance();
            values.Add(ParseValue());
        }

        if (Current.Kind != TokenKind.RightParen)
        {
            throw Unexpected(Current, $"expected ',' or ')' in the IN list opened at position {open.Position + 1}");
        }

        Advance();
        return [.. values];
    }

    private Operand ParseValue()
    {
        Token token = Current;
        switch (token.Kind)
        {
            case TokenKind.String:
                Advance();
                // Pre-parsed once here so Datetime attributes can be compared as instants without reparsing per record.
                return new Operand(
                    QueryValue.FromString(token.Text),
                    Rfc3339.TryParseUtcTicks(token.Text, out long ticks) ? ticks : null);
            case TokenKind.Number:
                Advance();
                return new Operand(ParseNumber(token), null);
            case TokenKind.Identifier when token.IsKeyword("TRUE") || token.IsKeyword("FALSE"):
                Advance();
                return new Operand(QueryValue.FromBool(token.IsKeyword("TRUE")), null);
            case TokenKind.Identifier when token.IsKeyword("NULL"):
                throw QueryErrors.At("NULL cannot be compared with an operator; use IS NULL or IS NOT NULL", token.Position);
            case TokenKind.Identifier or TokenKind.QuotedIdentifier:
                throw QueryErrors.At(
                    $"expected a value but found identifier '{token.Text}'; string values must be quoted",
                    token.Position);
            default:
                throw Unexpected(token, "expected a value (string, number, true or false)");
        }
    }

    private static QueryValue ParseNumber(Token token)
    {
        string text = token.Text;
        if (text.AsSpan().IndexOfAny('.', 'e', 'E') >= 0)
        {
            return double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double real)
                && double.IsFinite(real)
                ? QueryValue.FromFloat(real)
                : throw QueryErrors.At($"number '{text}' is out of range", token.Position);
        }

        return long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long integer)
            ? QueryValue.FromInteger(integer)
            : throw QueryErrors.At($"integer '{text}' is out of range", token.Position);
    }

    private OrderKey[] ParseOrderKeys()
    {
        var keys = new List<OrderKey>();
        do
        {
            if (keys.Count > 0)
            {
                Advance(); // the comma
            }

            Token fieldToken = Current;
            (SystemField? field, string name) = ParseFieldName("expected a field name in ORDER BY");
            if (field is not SystemField systemField)
            {
                throw QueryErrors.At(
                    $"ORDER BY supports only system fields ({string.Join(", ", Enum.GetNames<SystemField>())}), not '{name}'",
                    fieldToken.Position);
            }

            bool descending = false;
            if (Current.IsKeyword("DESC"))
            {
                descending = true;
                Advance();
            }
            else if (Current.IsKeyword("ASC"))
            {
                Advance();
            }

            keys.Add(new OrderKey(systemField, descending));
        }
        while (Current.Kind == TokenKind.Comma);

        return [.. keys];
    }

    private void ParseGroupBy()
    {
        Token fieldToken = Current;
        (SystemField? field, string name) = ParseFieldName("expected a field name in GROUP BY");
        if (field != SystemField.ExecutionStatus)
        {
            throw QueryErrors.At($"GROUP BY supports only ExecutionStatus, not '{name}'", fieldToken.Position);
        }

        if (Current.Kind == TokenKind.Comma)
        {
            throw QueryErrors.At("GROUP BY supports a single field (ExecutionStatus)", Current.Position);
        }
    }

    private (SystemField? Field, string Name) ParseFieldName(string expectation)
    {
        Token token = Current;
        bool isName = token.Kind == TokenKind.QuotedIdentifier
            || (token.Kind == TokenKind.Identifier && !IsReserved(token.Text));
        if (!isName)
        {
            throw Unexpected(token, expectation);
        }

        Advance();
        if (SystemFields.TryResolve(token.Text, out SystemField field))
        {
            return (field, token.Text);
        }

        if (SystemFields.FindMiscasedName(token.Text) is string canonical)
        {
            throw QueryErrors.At(
                $"unknown search attribute '{token.Text}'; did you mean '{canonical}'? (names are case-sensitive)",
                token.Position);
        }

        return (null, token.Text); // custom attribute: unknown names are fine, records without it just don't match
    }

    private void ExpectKeyword(string keyword, string context)
    {
        if (!Current.IsKeyword(keyword))
        {
            throw Unexpected(Current, $"expected {keyword} {context}");
        }

        Advance();
    }

    private static bool IsReserved(string word)
    {
        foreach (string reserved in ReservedWords)
        {
            if (reserved.Equals(word, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        return false;
    }

    private static VisibilityQueryException Unexpected(Token token, string expectation) =>
        QueryErrors.At($"unexpected {token.Describe()}; {expectation}", token.Position);

    /// <summary>Checks literal types for a system field and converts them to the field's value kind.</summary>
    private static Operand[] BindSystemOperands(SystemField field, ComparisonOperator op, Token opToken, Operand[] operands)
    {
        SystemFieldType type = SystemFields.TypeOf(field);
        bool isRange = op is ComparisonOperator.Greater or ComparisonOperator.GreaterOrEqual or ComparisonOperator.Less
            or ComparisonOperator.LessOrEqual or ComparisonOperator.Between or ComparisonOperator.NotBetween;
        bool isPrefix = op is ComparisonOperator.StartsWith or ComparisonOperator.NotStartsWith;
        if (type == SystemFieldType.Status && (isRange || isPrefix))
        {
            throw QueryErrors.At(
                $"operator {opToken.Text.ToUpperInvariant()} is not supported for ExecutionStatus; use =, !=, IN or NOT IN",
                opToken.Position);
        }

        if (type != SystemFieldType.String && isPrefix)
        {
            throw QueryErrors.At($"STARTS_WITH is only supported for string fields, not {field}", opToken.Position);
        }

        var bound = new Operand[operands.Length];
        for (int i = 0; i < operands.Length; i++)
        {
            bound[i] = BindSystemOperand(field, type, operands[i], opToken.Position);
        }

        return bound;
    }

    private static Operand BindSystemOperand(SystemField field, SystemFieldType type, Operand operand, int position)
    {
        QueryValue literal = operand.Value;
        switch (type)
        {
            case SystemFieldType.String when literal.Kind == ValueKind.String:
                return operand;
            case SystemFieldType.String:
                throw QueryErrors.At($"{field} expects a string value, got {Display(literal)}", position);
            case SystemFieldType.Integer when literal.Kind is ValueKind.Integer or ValueKind.Float:
                return operand;
            case SystemFieldType.Integer:
                throw QueryErrors.At($"{field} expects a number, got {Display(literal)}", position);
            case SystemFieldType.Time when operand.TimeTicks is long ticks:
                return new Operand(QueryValue.FromTime(ticks), ticks);
            case SystemFieldType.Time:
                throw QueryErrors.At(
                    $"invalid datetime value {Display(literal)} for {field}; expected RFC 3339 such as '2026-01-01T00:00:00Z'",
                    position);
            case SystemFieldType.Status when literal.Kind == ValueKind.String
                && SystemFields.TryParseStatus(literal.Str!, out var status):
                return new Operand(QueryValue.FromInteger((long)status), null);
            case SystemFieldType.Status when literal.Kind == ValueKind.Integer && SystemFields.IsKnownStatus(literal.Long):
                return new Operand(literal, null);
            default:
                throw QueryErrors.At(
                    $"invalid ExecutionStatus value {Display(literal)}; expected one of {SystemFields.StatusNameList}",
                    position);
        }
    }

    private static string Display(QueryValue literal) => literal.Kind switch
    {
        ValueKind.String => $"'{literal.Str}'",
        ValueKind.Integer => literal.Long.ToString(CultureInfo.InvariantCulture),
        ValueKind.Float => literal.Double.ToString(CultureInfo.InvariantCulture),
        ValueKind.Bool => literal.Long != 0 ? "true" : "false",
        _ => literal.ToString(),
    };
}
