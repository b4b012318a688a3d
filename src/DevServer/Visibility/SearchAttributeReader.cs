using System.Text;
using System.Text.Json;
using Temporalio.Api.Common.V1;

namespace AgentOrchestrator.DevServer.Visibility;

internal enum MatchResult
{
    Absent,
    Matched,
    NotMatched,
}

/// <summary>
/// Evaluates a predicate directly on a custom search attribute payload. The JSON is streamed with
/// Utf8JsonReader (no DOM) because this runs once per record per predicate in List/Count.
/// </summary>
internal static class SearchAttributeReader
{
    private enum AttributeType
    {
        /// <summary>No or unrecognised "type" metadata: the JSON token kind decides.</summary>
        Untyped,
        Keyword,
        KeywordList,
        Text,
        Int,
        Double,
        Bool,
        Datetime,
    }

    /// <summary>
    /// Every attribute is treated as a list of values (a scalar is a one-element list): positive operators match
    /// when any element matches. This gives KeywordList its Temporal semantics ("=" is contains, IN is overlap)
    /// and also covers legacy array values of other types. Values that cannot be decoded as the declared type are
    /// skipped; no usable element at all means the attribute is absent.
    /// </summary>
    public static MatchResult Evaluate(Payload payload, ComparisonOperator op, Operand[] operands)
    {
        if (payload.Metadata.TryGetValue("encoding", out var encoding)
            && !encoding.Span.SequenceEqual("json/plain"u8))
        {
            return MatchResult.Absent; // binary/null means "unset"; any other encoding is not a search attribute value
        }

        AttributeType type = payload.Metadata.TryGetValue("type", out var typeName)
            ? ParseType(typeName.Span)
            : AttributeType.Untyped;

        try
        {
            return EvaluateJson(payload.Data.Span, type, op, operands);
        }
        catch (JsonException)
        {
            return MatchResult.Absent; // malformed data cannot match anything; failing the whole List would be worse
        }
    }

    // Temporal sends the exact names; case-insensitive matching only adds tolerance for hand-built payloads.
    private static AttributeType ParseType(ReadOnlySpan<byte> name) =>
        Ascii.EqualsIgnoreCase(name, "Keyword"u8) ? AttributeType.Keyword
        : Ascii.EqualsIgnoreCase(name, "KeywordList"u8) ? AttributeType.KeywordList
        : Ascii.EqualsIgnoreCase(name, "Text"u8) ? AttributeType.Text
        : Ascii.EqualsIgnoreCase(name, "Int"u8) ? AttributeType.Int
        : Ascii.EqualsIgnoreCase(name, "Double"u8) ? AttributeType.Double
        : Ascii.EqualsIgnoreCase(name, "Bool"u8) ? AttributeType.Bool
        : Ascii.EqualsIgnoreCase(name, "Datetime"u8) ? AttributeType.Datetime
        : AttributeType.Untyped;

    private static MatchResult EvaluateJson(
        ReadOnlySpan<byte> json, AttributeType type, ComparisonOperator op, Operand[] operands)
    {
        var reader = new Utf8JsonReader(json);
        if (!reader.Read())
        {
            return MatchResult.Absent;
        }

        if (reader.TokenType != JsonTokenType.StartArray)
        {
            if (!TryDecode(ref reader, type, out QueryValue single))
            {
                return MatchResult.Absent;
            }

            return ValueMatcher.Test(single, op, operands) ? MatchResult.Matched : MatchResult.NotMatched;
        }

        bool any = false;
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            if (reader.TokenType is JsonTokenType.StartArray or JsonTokenType.StartObject)
            {
                reader.Skip();
                continue;
            }

            if (!TryDecode(ref reader, type, out QueryValue element))
            {
                continue;
            }

            any = true;
            if (ValueMatcher.Test(element, op, operands))
            {
                return MatchResult.Matched;
            }
        }

        return any ? MatchResult.NotMatched : MatchResult.Absent;
    }

    private static bool TryDecode(ref Utf8JsonReader reader, AttributeType type, out QueryValue value)
    {
        value = default;
        switch (reader.TokenType)
        {
            case JsonTokenType.String:
                string text = reader.GetString()!;
                switch (type)
                {
                    case AttributeType.Keyword or AttributeType.KeywordList or AttributeType.Untyped:
                        value = QueryValue.FromString(text);
                        return true;
                    case AttributeType.Text:
                        value = QueryValue.FromText(text);
                        return true;
                    case AttributeType.Datetime when Rfc3339.TryParseUtcTicks(text, out long ticks):
                        value = QueryValue.FromTime(ticks);
                        return true;
                    default:
                        return false;
                }

            case JsonTokenType.Number:
                if (type is not (AttributeType.Int or AttributeType.Double or AttributeType.Untyped))
                {
                    return false;
                }

                // Int attributes can only hold integers, but a fractional value still compares correctly as double.
                if (type != AttributeType.Double && reader.TryGetInt64(out long integer))
                {
                    value = QueryValue.FromInteger(integer);
                    return true;
                }

                if (reader.TryGetDouble(out double number))
                {
                    value = QueryValue.FromFloat(number);
                    return true;
                }

                return false;
            case JsonTokenType.True or JsonTokenType.False:
                if (type is not (AttributeType.Bool or AttributeType.Untyped))
                {
                    return false;
                }

                value = QueryValue.FromBool(reader.TokenType == JsonTokenType.True);
                return true;
            default:
                return false; // null and anything else: not a value
        }
    }
}
