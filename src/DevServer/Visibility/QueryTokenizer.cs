using System.Text;

namespace AgentOrchestrator.DevServer.Visibility;

internal enum TokenKind
{
    /// <summary>Plain word: a field name or, case-insensitively, a keyword such as AND.</summary>
    Identifier,

    /// <summary>Backtick-quoted name; never a keyword.</summary>
    QuotedIdentifier,
    String,
    Number,
    Operator,
    LeftParen,
    RightParen,
    Comma,
    End,
}

/// <param name="Position">0-based index of the token's first character in the query.</param>
internal readonly record struct Token(TokenKind Kind, string Text, int Position)
{
    public bool IsKeyword(string keyword) =>
        Kind == TokenKind.Identifier && Text.Equals(keyword, StringComparison.OrdinalIgnoreCase);

    public string Describe() => Kind switch
    {
        TokenKind.End => "end of query",
        TokenKind.String => $"string '{Text}'",
        TokenKind.QuotedIdentifier => $"`{Text}`",
        _ => $"'{Text}'",
    };
}

/// <summary>Single forward pass over the query; no regular expressions, so no backtracking cost.</summary>
internal static class QueryTokenizer
{
    public static List<Token> Tokenize(string query)
    {
        var tokens = new List<Token>();
        int i = 0;
        while (true)
        {
            while (i < query.Length && char.IsWhiteSpace(query[i]))
            {
                i++;
            }

            if (i >= query.Length)
            {
                tokens.Add(new Token(TokenKind.End, string.Empty, query.Length));
                return tokens;
            }

            char c = query[i];
            int start = i;
            switch (c)
            {
                case '(':
                    tokens.Add(new Token(TokenKind.LeftParen, "(", start));
                    i++;
                    break;
                case ')':
                    tokens.Add(new Token(TokenKind.RightParen, ")", start));
                    i++;
                    break;
                case ',':
                    tokens.Add(new Token(TokenKind.Comma, ",", start));
                    i++;
                    break;
                case '\'' or '"':
                    tokens.Add(ReadString(query, ref i));
                    break;
                case '`':
                    tokens.Add(ReadQuotedIdentifier(query, ref i));
                    break;
                case '=' or '!' or '<' or '>':
                    tokens.Add(ReadOperator(query, ref i));
                    break;
                default:
                    if (char.IsAsciiDigit(c) || (c == '-' && i + 1 < query.Length && char.IsAsciiDigit(query[i + 1])))
                    {
                        tokens.Add(ReadNumber(query, ref i));
                    }
                    else if (IsIdentifierStart(c))
                    {
                        while (i < query.Length && IsIdentifierPart(query[i]))
                        {
                            i++;
                        }

                        tokens.Add(new Token(TokenKind.Identifier, query[start..i], start));
                    }
                    else
                    {
                        throw QueryErrors.At($"unexpected character '{c}'", start);
                    }

                    break;
            }
        }
    }

    private static bool IsIdentifierStart(char c) => char.IsAsciiLetter(c) || c == '_';

    private static bool IsIdentifierPart(char c) => char.IsAsciiLetterOrDigit(c) || c == '_';

    private static Token ReadString(string query, ref int i)
    {
        int start = i;
        char quote = query[i++];
        var text = new StringBuilder();
        while (i < query.Length)
        {
            char c = query[i];
            if (c == '\\' && i + 1 < query.Length)
            {
                char escaped = query[i + 1];
                text.Append(escaped switch
                {
                    'n' => '\n',
                    't' => '\t',
                    'r' => '\r',
                    '0' => '\0',
                    _ => escaped, // covers \\, \', \" and keeps unknown escapes as the bare character
                });
                i += 2;
            }
            else if (c == '\\')
            {
                break; // a trailing backslash escapes nothing: the string is unterminated
            }
            else if (c == quote)
            {
                if (i + 1 < query.Length && query[i + 1] == quote)
                {
                    text.Append(quote); // SQL-style doubled quote
                    i += 2;
                }
                else
                {
                    i++;
                    return new Token(TokenKind.String, text.ToString(), start);
                }
            }
            else
            {
                text.Append(c);
                i++;
            }
        }

        throw QueryErrors.At("unterminated string literal", start);
    }

    private static Token ReadQuotedIdentifier(string query, ref int i)
    {
        int start = i++;
        var text = new StringBuilder();
        while (i < query.Length)
        {
            char c = query[i];
            if (c != '`')
            {
                text.Append(c);
                i++;
            }
            else if (i + 1 < query.Length && query[i + 1] == '`')
            {
                text.Append('`');
                i += 2;
            }
            else
            {
                i++;
                if (text.Length == 0)
                {
                    throw QueryErrors.At("empty quoted identifier ``", start);
                }

                return new Token(TokenKind.QuotedIdentifier, text.ToString(), start);
            }
        }

        throw QueryErrors.At("unterminated quoted identifier (missing closing backtick)", start);
    }

    private static Token ReadOperator(string query, ref int i)
    {
        int start = i;
        while (i < query.Length && query[i] is '=' or '!' or '<' or '>')
        {
            i++;
        }

        // Maximal munch, then validate, so "==" or "=>" is reported as one bad operator.
        string op = query[start..i];
        if (op is not ("=" or "!=" or "<>" or ">" or ">=" or "<" or "<="))
        {
            throw QueryErrors.At($"invalid operator '{op}'; expected =, !=, <>, >, >=, < or <=", start);
        }

        return new Token(TokenKind.Operator, op, start);
    }

    private static Token ReadNumber(string query, ref int i)
    {
        int start = i;
        if (query[i] == '-')
        {
            i++;
        }

        SkipDigits(query, ref i);
        if (i + 1 < query.Length && query[i] == '.' && char.IsAsciiDigit(query[i + 1]))
        {
            i++;
            SkipDigits(query, ref i);
        }

        if (i < query.Length && query[i] is 'e' or 'E')
        {
            int exponent = i + 1;
            if (exponent < query.Length && query[exponent] is '+' or '-')
            {
                exponent++;
            }

            if (exponent < query.Length && char.IsAsciiDigit(query[exponent]))
            {
                i = exponent;
                SkipDigits(query, ref i);
            }
        }

        // "12abc" or "1.2.3" is a typo, not a number followed by a name.
        if (i < query.Length && (IsIdentifierPart(query[i]) || query[i] == '.'))
        {
            int end = i;
            while (end < query.Length && (IsIdentifierPart(query[end]) || query[end] == '.'))
            {
                end++;
            }

            throw QueryErrors.At($"invalid number '{query[start..end]}'", start);
        }

        return new Token(TokenKind.Number, query[start..i], start);
    }

    private static void SkipDigits(string query, ref int i)
    {
        while (i < query.Length && char.IsAsciiDigit(query[i]))
        {
            i++;
        }
    }
}

internal static class QueryErrors
{
    public static VisibilityQueryException At(string reason, int position) =>
        new($"invalid query: {reason} (at position {position + 1})");
}
