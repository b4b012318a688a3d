using AgentOrchestrator.TestSupport;
using Google.Protobuf.WellKnownTypes;
using Temporalio.Api.ErrorDetails.V1;
using Temporalio.Api.WorkflowService.V1;
using Temporalio.Client;
using Temporalio.Exceptions;
using Temporalio.Worker;
using Temporalio.Workflows;

namespace AgentOrchestrator.DevServer.Tests.Namespaces;

/// <summary>Namespaces are registered (at start or through RegisterNamespace); any other namespace is NOT_FOUND.</summary>
public sealed class NamespaceTests(DevServerFixture server) : IClassFixture<DevServerFixture>
{
    [Workflow]
    public sealed class EchoWorkflow
    {
        [WorkflowRun]
        public Task<string> RunAsync(string text) => Task.FromResult(text);
    }

    [Fact]
    public async Task StartWorkflow_UnknownNamespace_IsNotFoundWithNamespaceNotFoundDetail()
    {
        var client = await ConnectAsync($"nowhere-{Guid.NewGuid():N}");

        var error = await Assert.ThrowsAsync<RpcException>(() =>
            client.StartWorkflowAsync("Anything", [], new WorkflowOptions("wf", "tq")));

        Assert.Equal(RpcException.StatusCode.NotFound, error.Code);
        Assert.Contains("is not found", error.Message, StringComparison.Ordinal);
        Assert.NotNull(error.GrpcStatus.Value);
        Assert.True(error.GrpcStatus.Value!.Details.Single().Is(NamespaceNotFoundFailure.Descriptor));
    }

    [Fact]
    public async Task Worker_UnknownNamespace_FailsToStart()
    {
        var client = await ConnectAsync($"nowhere-{Guid.NewGuid():N}");
        using var worker = new TemporalWorker(client, new TemporalWorkerOptions("tq").AddWorkflow<EchoWorkflow>());
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(60));

        var error = await Assert.ThrowsAnyAsync<Exception>(() => worker.ExecuteAsync(stop.Token));

        Assert.IsNotType<OperationCanceledException>(error);
    }

    [Fact]
    public async Task RegisterNamespace_ThenDescribeListUpdate_AndWorkflowsRunInIt()
    {
        var name = $"ns-{Guid.NewGuid():N}";
        var service = (await server.ConnectClientAsync()).Connection.WorkflowService;

        await service.RegisterNamespaceAsync(new RegisterNamespaceRequest
        {
            Namespace = name,
            Description = "team namespace",
            OwnerEmail = "ops@example.com",
            WorkflowExecutionRetentionPeriod = Duration.FromTimeSpan(TimeSpan.FromDays(3)),
        });

        var described = await service.DescribeNamespaceAsync(new DescribeNamespaceRequest { Namespace = name });
        Assert.Equal(name, described.NamespaceInfo.Name);
        Assert.Equal("team namespace", described.NamespaceInfo.Description);
        Assert.Equal(Temporalio.Api.Enums.V1.NamespaceState.Registered, described.NamespaceInfo.State);
        Assert.Equal(TimeSpan.FromDays(3), described.Config.WorkflowExecutionRetentionTtl.ToTimeSpan());
        var byId = await service.DescribeNamespaceAsync(new DescribeNamespaceRequest { Id = described.NamespaceInfo.Id });
        Assert.Equal(name, byId.NamespaceInfo.Name);

        var listed = await service.ListNamespacesAsync(new ListNamespacesRequest());
        Assert.Contains(listed.Namespaces, n => n.NamespaceInfo.Name == name);
        Assert.Contains(listed.Namespaces, n => n.NamespaceInfo.Name == "default");

        var updated = await service.UpdateNamespaceAsync(new UpdateNamespaceRequest
        {
            Namespace = name,
            UpdateInfo = new Temporalio.Api.Namespace.V1.UpdateNamespaceInfo { Description = "renamed team", Data = { ["team"] = "orchestration" } },
            Config = new Temporalio.Api.Namespace.V1.NamespaceConfig { WorkflowExecutionRetentionTtl = Duration.FromTimeSpan(TimeSpan.FromDays(7)) },
        });
        Assert.Equal("renamed team", updated.NamespaceInfo.Description);
        var afterUpdate = await service.DescribeNamespaceAsync(new DescribeNamespaceRequest { Namespace = name });
        Assert.Equal("orchestration", afterUpdate.NamespaceInfo.Data["team"]);
        Assert.Equal(TimeSpan.FromDays(7), afterUpdate.Config.WorkflowExecutionRetentionTtl.ToTimeSpan());

        var client = await ConnectAsync(name);
        var taskQueue = $"tq-{Guid.NewGuid()}";
        using var worker = new TemporalWorker(client, new TemporalWorkerOptions(taskQueue).AddWorkflow<EchoWorkflow>());
        var result = await worker.ExecuteAsync(() =>
            client.ExecuteWorkflowAsync((EchoWorkflow wf) => wf.RunAsync("in a namespace of its own"), new WorkflowOptions($"wf-{Guid.NewGuid()}", taskQueue)));
        Assert.Equal("in a namespace of its own", result);
    }

    [Fact]
    public async Task RegisterNamespace_TakenName_IsAlreadyExists_AndUnknownDescribeOrUpdate_IsNotFound()
    {
        var service = (await server.ConnectClientAsync()).Connection.WorkflowService;

        var taken = await Assert.ThrowsAsync<RpcException>(() => service.RegisterNamespaceAsync(new RegisterNamespaceRequest { Namespace = "default" }));
        Assert.Equal(RpcException.StatusCode.AlreadyExists, taken.Code);

        var empty = await Assert.ThrowsAsync<RpcException>(() => service.RegisterNamespaceAsync(new RegisterNamespaceRequest { Namespace = " " }));
        Assert.Equal(RpcException.StatusCode.InvalidArgument, empty.Code);

        var unknown = $"nowhere-{Guid.NewGuid():N}";
        var describe = await Assert.ThrowsAsync<RpcException>(() => service.DescribeNamespaceAsync(new DescribeNamespaceRequest { Namespace = unknown }));
        Assert.Equal(RpcException.StatusCode.NotFound, describe.Code);
        var update = await Assert.ThrowsAsync<RpcException>(() => service.UpdateNamespaceAsync(new UpdateNamespaceRequest { Namespace = unknown }));
        Assert.Equal(RpcException.StatusCode.NotFound, update.Code);
    }

    [Fact]
    public async Task Options_NamespacesNamedAtStart_AreRegistered()
    {
        var (options, _) = DevServerCommandLine.Parse(["--port", "0", "--namespace", "alpha", "--namespace", "beta"]);
        await using var host = await DevServerHost.StartAsync(options);
        var service = (await ScenarioHelpers.ConnectAsync(host)).Connection.WorkflowService;

        var names = (await service.ListNamespacesAsync(new ListNamespacesRequest())).Namespaces.Select(n => n.NamespaceInfo.Name).ToList();

        Assert.Equal(["alpha", "beta", "default"], names);
    }

    private Task<TemporalClient> ConnectAsync(string ns) =>
        TemporalClient.ConnectAsync(new TemporalClientConnectOptions(server.Target) { Namespace = ns });
}
