using System.Diagnostics.CodeAnalysis;

namespace AgentOrchestrator.ModelSimulator.Generation;

/// <summary>A <c>[[call:NAME {json}]]</c> directive found in a user message.</summary>
internal sealed record ToolCallDirective(string Name, string Arguments);

/// <summary>
/// Finds tool-call directives in prompt text: <c>[[call:TOOL_NAME]]</c> or <c>[[call:TOOL_NAME {"json":"args"}]]</c>.
/// The arguments object is taken verbatim (braces inside JSON strings are fine); without one it is <c>{}</c>.
/// Text that does not form a complete directive is ignored.
/// </summary>
internal static class ToolCallDirectiveParser
{
    private const string Opening = "[[call:";
    private const string Closing = "]]";

    public static List<ToolCallDirective> Parse(string text)
    {
        var directives = new List<ToolCallDirective>();
        int searchFrom = 0;
        int start;
        while ((start = text.IndexOf(Opening, searchFrom, StringComparison.Ordinal)) >= 0)
        {
            searchFrom = start + Opening.Length;
            if (TryParseAt(text, searchFrom, out ToolCallDirective? directive, out int end))
            {
                directives.Add(directive);
                searchFrom = end;
            }
        }

        return directives;
    }

    private static bool TryParseAt(
        string text, int position, [NotNullWhen(true)] out ToolCallDirective? directive, out int end)
    {
        directive = null;
        end = position;
        int i = position;
        while (i < text.Length && !char.IsWhiteSpace(text[i]) && text[i] != '{' && !IsClosingAt(text, i))
        {
            i++;
        }

        string name = text[position..i];
        i = SkipWhiteSpace(text, i);
        string arguments = "{}";
        if (i < text.Length && text[i] == '{')
        {
            int objectEnd = FindObjectEnd(text, i);
            if (objectEnd < 0)
            {
                return false;
            }

            arguments = text[i..(objectEnd + 1)];
            i = SkipWhiteSpace(text, objectEnd + 1);
        }

        if (name.Length == 0 || !IsClosingAt(text, i))
        {
            return false;
        }

        directive = new ToolCallDirective(name, arguments);
        end = i + Closing.Length;
        return true;
    }

    private static bool IsClosingAt(string text, int i) =>
        string.CompareOrdinal(text, i, Closing, 0, Closing.Length) == 0;

    private static int SkipWhiteSpace(string text, int i)
    {
        while (i < text.Length && char.IsWhiteSpace(text[i]))
        {
            i++;
        }

        return i;
    }

    /// <summary>Index of the brace closing the object that opens at <paramref name="open"/>, or -1.</summary>
    private static int FindObjectEnd(string text, int open)
    {
        int depth = 0;
        bool inString = false;
        for (int i = open; i < text.Length; i++)
        {
            char c = text[i];
            if (inString)
            {
                if (c == '\\')
                {
                    i++;
                }
                else if (c == '"')
                {
                    inString = false;
                }
            }
            else if (c == '"')
            {
                inString = true;
            }
            else if (c == '{')
            {
                depth++;
            }
            else if (c == '}' && --depth == 0)
            {
                return i;
            }
        }

        return -1;
    }
}
