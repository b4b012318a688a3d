namespace AgentOrchestrator.DevServer.Visibility;

/// <summary>The outcome of adding or removing search attributes: which attribute failed and why.</summary>
internal readonly record struct SearchAttributeChange(SearchAttributeChangeError Error, string Name)
{
    public static SearchAttributeChange Ok => default;
}

internal enum SearchAttributeChangeError
{
    None,
    Invalid,
    Reserved,
    TypeConflict,
    NotFound,
}
