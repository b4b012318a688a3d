using System.Collections.Concurrent;
using AgentOrchestrator.DevServer.Engine;
using AgentOrchestrator.DevServer.Engine.Storage;
using Google.Protobuf;
using Temporalio.Api.Enums.V1;
using Temporalio.Api.OperatorService.V1;

namespace AgentOrchestrator.DevServer.Visibility;

/// <summary>
/// Search attributes per namespace, for OperatorService's List/Add/RemoveSearchAttributes and the UI's filters.
/// Every namespace starts with the custom attributes Temporal's CLI dev server pre-registers; system attributes
/// are fixed. Workflows may still set attributes that are not registered (the embedded server is lenient there,
/// so apps written against it keep working before anyone registers their attributes).
/// </summary>
internal sealed class SearchAttributeRegistry
{
    public static IReadOnlyDictionary<string, IndexedValueType> SystemAttributes { get; } = new Dictionary<string, IndexedValueType>(StringComparer.Ordinal)
    {
        ["WorkflowId"] = IndexedValueType.Keyword,
        ["RunId"] = IndexedValueType.Keyword,
        ["WorkflowType"] = IndexedValueType.Keyword,
        ["TaskQueue"] = IndexedValueType.Keyword,
        ["ExecutionStatus"] = IndexedValueType.Keyword,
        ["StartTime"] = IndexedValueType.Datetime,
        ["ExecutionTime"] = IndexedValueType.Datetime,
        ["CloseTime"] = IndexedValueType.Datetime,
        ["ExecutionDuration"] = IndexedValueType.Int,
        ["HistoryLength"] = IndexedValueType.Int,
        ["HistorySizeBytes"] = IndexedValueType.Int,
        ["StateTransitionCount"] = IndexedValueType.Int,
        ["ParentWorkflowId"] = IndexedValueType.Keyword,
        ["ParentRunId"] = IndexedValueType.Keyword,
        ["RootWorkflowId"] = IndexedValueType.Keyword,
        ["RootRunId"] = IndexedValueType.Keyword,
        ["BatcherUser"] = IndexedValueType.Keyword,
        ["BuildIds"] = IndexedValueType.KeywordList,
        ["TemporalChangeVersion"] = IndexedValueType.KeywordList,
        ["TemporalScheduledStartTime"] = IndexedValueType.Datetime,
        ["TemporalScheduledById"] = IndexedValueType.Keyword,
        ["TemporalSchedulePaused"] = IndexedValueType.Bool,
        ["TemporalNamespaceDivision"] = IndexedValueType.Keyword,
        ["TemporalReportedProblems"] = IndexedValueType.KeywordList,
        ["TemporalPauseInfo"] = IndexedValueType.KeywordList,
        ["TemporalWorkerDeploymentVersion"] = IndexedValueType.Keyword,
        ["TemporalWorkerDeployment"] = IndexedValueType.Keyword,
        ["TemporalWorkflowVersioningBehavior"] = IndexedValueType.Keyword,
    };

    private static readonly (string Name, IndexedValueType Type)[] Preregistered =
    [
        ("CustomKeywordField", IndexedValueType.Keyword),
        ("CustomStringField", IndexedValueType.Text),
        ("CustomTextField", IndexedValueType.Text),
        ("CustomIntField", IndexedValueType.Int),
        ("CustomDatetimeField", IndexedValueType.Datetime),
        ("CustomDoubleField", IndexedValueType.Double),
        ("CustomBoolField", IndexedValueType.Bool),
    ];

    public const string RecordKind = "search-attributes";

    private readonly ConcurrentDictionary<string, Dictionary<string, IndexedValueType>> _custom = new(StringComparer.Ordinal);
    private readonly IWorkflowStore _store;

    /// <summary>Each namespace's custom attributes are one store record (a ListSearchAttributesResponse), saved on every change.</summary>
    public SearchAttributeRegistry(WorkflowEngine engine)
    {
        _store = engine.Registry.Store;
        foreach (var (ns, value) in _store.LoadRecords(RecordKind))
        {
            _custom[ns] = new Dictionary<string, IndexedValueType>(ListSearchAttributesResponse.Parser.ParseFrom(value).CustomAttributes, StringComparer.Ordinal);
        }
    }

    /// <summary>A copy of the namespace's custom attributes.</summary>
    public Dictionary<string, IndexedValueType> Custom(string ns)
    {
        var attributes = Of(ns);
        lock (attributes)
        {
            return new Dictionary<string, IndexedValueType>(attributes, StringComparer.Ordinal);
        }
    }

    /// <summary>Adds every attribute or none: an error names the first that cannot be added.</summary>
    public SearchAttributeChange Add(string ns, IReadOnlyDictionary<string, IndexedValueType> attributes)
    {
        var custom = Of(ns);
        lock (custom)
        {
            foreach (var (name, type) in attributes)
            {
                if (string.IsNullOrWhiteSpace(name) || type == IndexedValueType.Unspecified)
                {
                    return new SearchAttributeChange(SearchAttributeChangeError.Invalid, name);
                }
                if (SystemAttributes.ContainsKey(name))
                {
                    return new SearchAttributeChange(SearchAttributeChangeError.Reserved, name);
                }
                if (custom.TryGetValue(name, out var existing) && existing != type)
                {
                    return new SearchAttributeChange(SearchAttributeChangeError.TypeConflict, name);
                }
            }
            foreach (var (name, type) in attributes)
            {
                custom[name] = type;
            }
            Save(ns, custom);
            return SearchAttributeChange.Ok;
        }
    }

    /// <summary>Removes every attribute or none: an error names the first that is not a custom attribute.</summary>
    public SearchAttributeChange Remove(string ns, IEnumerable<string> names)
    {
        var custom = Of(ns);
        lock (custom)
        {
            var list = names.ToList();
            foreach (var name in list)
            {
                if (SystemAttributes.ContainsKey(name))
                {
                    return new SearchAttributeChange(SearchAttributeChangeError.Reserved, name);
                }
                if (!custom.ContainsKey(name))
                {
                    return new SearchAttributeChange(SearchAttributeChangeError.NotFound, name);
                }
            }
            foreach (var name in list)
            {
                custom.Remove(name);
            }
            Save(ns, custom);
            return SearchAttributeChange.Ok;
        }
    }

    private void Save(string ns, Dictionary<string, IndexedValueType> custom)
    {
        var record = new ListSearchAttributesResponse();
        record.CustomAttributes.Add(custom);
        _store.PutRecord(RecordKind, ns, record.ToByteArray());
    }

    private Dictionary<string, IndexedValueType> Of(string ns) =>
        _custom.GetOrAdd(ns, static _ => Preregistered.ToDictionary(p => p.Name, p => p.Type, StringComparer.Ordinal));
}
