using System.Collections.Concurrent;
using AgentOrchestrator.DevServer.Engine;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Microsoft.Extensions.Options;
using Temporalio.Api.Enums.V1;
using Temporalio.Api.Namespace.V1;
using Temporalio.Api.Replication.V1;
using Temporalio.Api.WorkflowService.V1;

namespace AgentOrchestrator.DevServer.Namespaces;

/// <summary>
/// The namespaces the server knows: the default one and those named at start are registered up front, others
/// through RegisterNamespace. A request naming any other namespace is refused (NOT_FOUND), as Temporal does.
/// Each registration is stored as the namespace's record (kind "namespace", a DescribeNamespaceResponse) and its id
/// is the engine's, so history events and Describe agree.
/// </summary>
internal sealed class NamespaceRegistry
{
    public const string ClusterName = "active";

    private readonly ConcurrentDictionary<string, DescribeNamespaceResponse> _namespaces = new(StringComparer.Ordinal);
    private readonly TimeSpan _defaultRetention;
    private readonly WorkflowEngine _engine;

    public NamespaceRegistry(IOptions<DevServerOptions> options, WorkflowEngine engine)
    {
        var o = options.Value;
        _engine = engine;
        _defaultRetention = o.Retention;
        DefaultNamespace = o.Namespace;
        foreach (var (name, value) in engine.Registry.Store.LoadRecords(ExecutionRegistry.NamespaceRecordKind))
        {
            var stored = DescribeNamespaceResponse.Parser.ParseFrom(value);
            // A record the engine wrote for a namespace it only used (no registration) does not register it.
            if (stored.NamespaceInfo?.State == NamespaceState.Registered)
            {
                _namespaces[name] = stored;
            }
        }
        Register(o.Namespace, description: "default namespace", retention: null);
        foreach (var name in o.Namespaces)
        {
            Register(name, description: string.Empty, retention: null);
        }
    }

    /// <summary>The namespace a request with an empty namespace field addresses.</summary>
    public string DefaultNamespace { get; }

    public bool Contains(string name) => _namespaces.ContainsKey(name);

    /// <summary>Returns false when the name is taken.</summary>
    public bool Register(RegisterNamespaceRequest request) =>
        Register(request.Namespace, request.Description, request.WorkflowExecutionRetentionPeriod?.ToTimeSpan(), request.OwnerEmail, request.Data);

    private bool Register(string name, string description, TimeSpan? retention, string ownerEmail = "",
        IDictionary<string, string>? data = null)
    {
        var info = new NamespaceInfo
        {
            Name = name,
            Id = _engine.Registry.GetNamespace(name).Id,
            State = NamespaceState.Registered,
            Description = description,
            OwnerEmail = ownerEmail,
            Capabilities = new NamespaceInfo.Types.Capabilities { SyncUpdate = true, AsyncUpdate = true },
        };
        if (data is not null)
        {
            info.Data.Add(data);
        }
        var entry = new DescribeNamespaceResponse
        {
            NamespaceInfo = info,
            Config = new NamespaceConfig
            {
                WorkflowExecutionRetentionTtl = Duration.FromTimeSpan(retention is { } r && r > TimeSpan.Zero ? r : _defaultRetention),
                HistoryArchivalState = ArchivalState.Disabled,
                VisibilityArchivalState = ArchivalState.Disabled,
            },
            ReplicationConfig = new NamespaceReplicationConfig
            {
                ActiveClusterName = ClusterName,
                Clusters = { new ClusterReplicationConfig { ClusterName = ClusterName } },
                State = ReplicationState.Normal,
            },
            FailoverVersion = 0,
            IsGlobalNamespace = false,
        };
        if (!_namespaces.TryAdd(name, entry))
        {
            return false;
        }
        Save(entry);
        return true;
    }

    private void Save(DescribeNamespaceResponse entry) =>
        _engine.Registry.Store.PutRecord(ExecutionRegistry.NamespaceRecordKind, entry.NamespaceInfo.Name, entry.ToByteArray());

    /// <summary>A copy of the namespace's description, by name or (when the name is empty) by id.</summary>
    public DescribeNamespaceResponse? Describe(string name, string? id = null)
    {
        if (string.IsNullOrEmpty(name) && !string.IsNullOrEmpty(id))
        {
            return _namespaces.Values.FirstOrDefault(n => n.NamespaceInfo.Id == id)?.Clone();
        }
        return _namespaces.TryGetValue(string.IsNullOrEmpty(name) ? DefaultNamespace : name, out var entry) ? Snapshot(entry) : null;
    }

    /// <summary>All namespaces in name order (they are few; paging is by position).</summary>
    public IReadOnlyList<DescribeNamespaceResponse> List() =>
        [.. _namespaces.Values.OrderBy(n => n.NamespaceInfo.Name, StringComparer.Ordinal).Select(Snapshot)];

    /// <summary>Applies the update's info and config; null when the namespace is unknown.</summary>
    public DescribeNamespaceResponse? Update(UpdateNamespaceRequest request)
    {
        if (!_namespaces.TryGetValue(request.Namespace, out var entry))
        {
            return null;
        }
        lock (entry)
        {
            if (request.UpdateInfo is { } info)
            {
                if (!string.IsNullOrEmpty(info.Description))
                {
                    entry.NamespaceInfo.Description = info.Description;
                }
                if (!string.IsNullOrEmpty(info.OwnerEmail))
                {
                    entry.NamespaceInfo.OwnerEmail = info.OwnerEmail;
                }
                foreach (var (key, value) in info.Data)
                {
                    entry.NamespaceInfo.Data[key] = value;
                }
            }
            if (request.Config is { } config)
            {
                if (config.WorkflowExecutionRetentionTtl is { } ttl && ttl.ToTimeSpan() > TimeSpan.Zero)
                {
                    entry.Config.WorkflowExecutionRetentionTtl = ttl;
                }
                if (config.CustomSearchAttributeAliases.Count > 0)
                {
                    entry.Config.CustomSearchAttributeAliases.Add(config.CustomSearchAttributeAliases);
                }
            }
            Save(entry);
            return entry.Clone();
        }
    }

    private static DescribeNamespaceResponse Snapshot(DescribeNamespaceResponse entry)
    {
        lock (entry)
        {
            return entry.Clone();
        }
    }
}
