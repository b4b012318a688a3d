using AgentOrchestrator.TestSupport;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Temporalio.Activities;
using Temporalio.Api.Enums.V1;
using Temporalio.Client;
using Temporalio.Extensions.Hosting;
using Temporalio.Workflows;

namespace AgentOrchestrator.DevServer.Tests.Samples;

/// <summary>A hosted worker from Temporalio.Extensions.Hosting whose scoped activities resolve DI services.</summary>
public sealed class DependencyInjectionTests(DevServerFixture server) : IClassFixture<DevServerFixture>
{
    public interface IGreetingStore
    {
        string GreetingFor(string name);
    }

    public sealed class FixedGreetingStore(string salutation) : IGreetingStore
    {
        public string GreetingFor(string name) => $"{salutation}, {name}";
    }

    /// <summary>One instance per DI scope; the hosted worker opens a scope per activity invocation.</summary>
    public sealed class RequestScope
    {
        public Guid Id { get; } = Guid.NewGuid();
    }

    public sealed record Stamped(string Text, Guid ScopeId);

    public sealed class GreetingActivities(IGreetingStore store, RequestScope scope)
    {
        [Activity]
        public Stamped Greet(string name) => new(store.GreetingFor(name), scope.Id);
    }

    [Workflow]
    public sealed class DiGreetingWorkflow
    {
        private static readonly ActivityOptions Options = new() { StartToCloseTimeout = TimeSpan.FromSeconds(30) };

        [WorkflowRun]
        public async Task<List<Stamped>> RunAsync(List<string> names)
        {
            var results = new List<Stamped>();
            foreach (var name in names)
            {
                results.Add(await Workflow.ExecuteActivityAsync((GreetingActivities a) => a.Greet(name), Options));
            }
            return results;
        }
    }

    [Fact]
    public async Task HostedWorker_ScopedActivities_ResolveRegisteredServices()
    {
        var taskQueue = $"tq-{Guid.NewGuid()}";
        var salutation = $"Howdy-{Guid.NewGuid():N}";
        var builder = Host.CreateApplicationBuilder();
        builder.Services.AddSingleton<IGreetingStore>(new FixedGreetingStore(salutation));
        builder.Services.AddScoped<RequestScope>();
        builder.Services.AddHostedTemporalWorker(server.Target, server.Namespace, taskQueue)
            .AddScopedActivities<GreetingActivities>()
            .AddWorkflow<DiGreetingWorkflow>();

        using var host = builder.Build();
        await host.StartAsync();
        try
        {
            var client = await server.ConnectClientAsync();
            var handle = await client.StartWorkflowAsync((DiGreetingWorkflow wf) => wf.RunAsync(new List<string> { "ann", "bo" }),
                new WorkflowOptions($"wf-{Guid.NewGuid()}", taskQueue));
            var result = await handle.GetResultAsync();

            Assert.Equal([$"{salutation}, ann", $"{salutation}, bo"], result.Select(r => r.Text));
            // Scoped registration: each activity invocation got its own RequestScope.
            Assert.NotEqual(result[0].ScopeId, result[1].ScopeId);

            var history = await handle.FetchHistoryAsync();
            Assert.Equal(2, history.Events.Count(e => e.EventType == EventType.ActivityTaskCompleted));
            Assert.Equal(EventType.WorkflowExecutionCompleted, history.Events.Last().EventType);
            await Replay.AssertDeterministicAsync(history, typeof(DiGreetingWorkflow));
        }
        finally
        {
            await host.StopAsync();
        }
    }
}
