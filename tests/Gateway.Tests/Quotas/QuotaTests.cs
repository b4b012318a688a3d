using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using AgentOrchestrator.Contracts;
using AgentOrchestrator.TestSupport;
using MassTransit;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.DependencyInjection;

namespace AgentOrchestrator.Gateway.Tests.Quotas;

/// <summary>Each tenant quota refuses with its documented typed error, starts nothing, and is counted.</summary>
[Collection(AuthQuotaTestGroup.Name)]
public sealed class QuotaTests(AuthQuotaGatewayFixture fixture)
{
    [Fact]
    public async Task Connect_OverTenantConnectionCap_Returns429UntilAConnectionCloses()
    {
        var tenant = GatewayFixture.NewTenant();
        await fixture.SetQuotasAsync(tenant, new { MaxConnections = 2 });
        await using var first = await fixture.ConnectedHubForAsync(tenant);
        await using var second = await fixture.ConnectedHubForAsync(tenant);
        await using var third = fixture.HubFor(tenant);

        var refused = await Assert.ThrowsAsync<HttpRequestException>(() => third.StartAsync());
        using var client = fixture.ClientFor(tenant);
        using var negotiate = await client.PostAsync(new Uri("hubs/runs/negotiate?negotiateVersion=1", UriKind.Relative), null);
        await using var otherTenant = await fixture.ConnectedHubForAsync(GatewayFixture.NewTenant());

        Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
        await AssertProblemAsync(negotiate, HttpStatusCode.TooManyRequests, "quota.connections", retryAfterSeconds: 7);
        Assert.Equal(2, fixture.Rejections(tenant, "connections"));
        Assert.Equal(0, await fixture.CountWorkflowsAsync(tenant));

        await second.DisposeAsync();
        await Eventually.TrueAsync(async () =>
        {
            try
            {
                await third.StartAsync();
                return true;
            }
            catch (HttpRequestException e) when (e.StatusCode == HttpStatusCode.TooManyRequests)
            {
                return false;
            }
        }, because: "a closed connection frees its place");
        Assert.Equal(HubConnectionState.Connected, third.State);
    }

    [Fact]
    public async Task StartRun_OverStartRate_Returns429WithRetryAfterAndStartsNothing()
    {
        var tenant = GatewayFixture.NewTenant();
        await fixture.SetQuotasAsync(tenant, new { RunStartsPerMinute = 1, RunStartBurst = 2 });
        using var client = fixture.ClientFor(tenant);

        using var burst1 = await StartAsync(client);
        using var burst2 = await StartAsync(client);
        using var refused = await StartAsync(client);
        await using var hub = await fixture.ConnectedHubForAsync(tenant);
        var hubError = await Assert.ThrowsAsync<HubException>(() => hub.InvokeAsync<string>("StartRun", Flows.WriterReviewer, "one more"));

        Assert.Equal(HttpStatusCode.Created, burst1.StatusCode);
        Assert.Equal(HttpStatusCode.Created, burst2.StatusCode);
        var problem = await AssertProblemAsync(refused, HttpStatusCode.TooManyRequests, "quota.start_rate", retryAfterSeconds: null);
        Assert.InRange(problem.GetProperty("retryAfterSeconds").GetInt32(), 1, 60);
        Assert.Matches(@"HubException: \[quota\.start_rate\] Run start rate for tenant exceeded; retry after [0-9]+ s\.$", hubError.Message);
        Assert.Equal(2, await fixture.CountWorkflowsAsync(tenant));
        Assert.Equal(2, fixture.Rejections(tenant, "start_rate"));
    }

    [Fact]
    public async Task StartRun_AtConcurrentRunLimit_Returns429AndStartsNothingUntilARunEnds()
    {
        var tenant = GatewayFixture.NewTenant();
        await fixture.SetQuotasAsync(tenant, new { MaxConcurrentRuns = 1 });
        using var client = fixture.ClientFor(tenant);

        using var admitted = await StartAsync(client);
        using var refused = await StartAsync(client);
        await using var hub = await fixture.ConnectedHubForAsync(tenant);
        var hubError = await Assert.ThrowsAsync<HubException>(() => hub.InvokeAsync<string>("StartRun", Flows.WriterReviewer, "one more"));

        Assert.Equal(HttpStatusCode.Created, admitted.StatusCode);
        await AssertProblemAsync(refused, HttpStatusCode.TooManyRequests, "quota.concurrent_runs", retryAfterSeconds: 7);
        Assert.Contains("HubException: [quota.concurrent_runs] The tenant has 1 running runs and its limit is 1", hubError.Message, StringComparison.Ordinal);
        Assert.Equal(1, await fixture.CountWorkflowsAsync(tenant));
        Assert.Equal(1, await fixture.CountRunningAsync(tenant)); // found through the TenantId search attribute
        Assert.Equal(2, fixture.Rejections(tenant, "concurrent_runs"));

        // The run ends: after the count's short cache, a start is admitted again.
        var runId = (await admitted.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("runId").GetString()!;
        await fixture.Temporal.GetWorkflowHandle(RunWorkflowIds.For(tenant, runId)).TerminateAsync("test: free the place");
        await Eventually.TrueAsync(async () =>
        {
            using var response = await StartAsync(client);
            return response.StatusCode == HttpStatusCode.Created;
        }, because: "an ended run frees its place");
        Assert.Equal(2, await fixture.CountWorkflowsAsync(tenant));
        Assert.Equal(1, await fixture.CountRunningAsync(tenant));
    }

    [Fact]
    public async Task Messages_OverTenantSizeLimit_Return413AndStartNothing()
    {
        var tenant = GatewayFixture.NewTenant();
        await fixture.SetQuotasAsync(tenant, new { MaxMessageBytes = 1024 });
        using var client = fixture.ClientFor(tenant);
        var large = new string('x', 2000);

        using var withLength = await StartAsync(client, large);
        using var chunked = new HttpRequestMessage(HttpMethod.Post, "v1/runs")
        {
            Content = new StreamContent(new MemoryStream(Encoding.UTF8.GetBytes(JsonSerializer.Serialize(new { flow = Flows.WriterReviewer, input = large })))),
        };
        chunked.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        chunked.Headers.TransferEncodingChunked = true;
        using var withoutLength = await client.SendAsync(chunked);
        await using var hub = await fixture.ConnectedHubForAsync(tenant);
        var hubError = await Assert.ThrowsAsync<HubException>(() => hub.InvokeAsync<string>("StartRun", Flows.WriterReviewer, large));

        await AssertProblemAsync(withLength, HttpStatusCode.RequestEntityTooLarge, "quota.message_size", retryAfterSeconds: null);
        await AssertProblemAsync(withoutLength, HttpStatusCode.RequestEntityTooLarge, "quota.message_size", retryAfterSeconds: null);
        Assert.EndsWith("HubException: [quota.message_size] The message is 2015 bytes; the tenant's limit is 1024 bytes.", hubError.Message, StringComparison.Ordinal);
        Assert.Equal(0, await fixture.CountWorkflowsAsync(tenant));
        Assert.Equal(3, fixture.Rejections(tenant, "message_size"));

        using var small = await StartAsync(client, "small enough");
        await hub.InvokeAsync<string>("StartRun", Flows.WriterReviewer, "small enough too");
        Assert.Equal(HttpStatusCode.Created, small.StatusCode);
        Assert.Equal(2, await fixture.CountWorkflowsAsync(tenant));
    }

    [Fact]
    public async Task Subscribe_OverSubscriptionsPerConnection_ThrowsUntilOneEnds()
    {
        var tenant = GatewayFixture.NewTenant();
        await fixture.SetQuotasAsync(tenant, new { MaxSubscriptionsPerConnection = 1 });
        await using var hub = await fixture.ConnectedHubForAsync(tenant);
        var runId = await hub.InvokeAsync<string>("StartRun", Flows.WriterReviewer, "watch me");
        await PublishStartedAsync(tenant, runId);

        using var firstStop = new CancellationTokenSource();
        var first = await hub.StreamAsChannelAsync<RunEvent>("Subscribe", runId, null, firstStop.Token);
        var firstEvent = await ReadFirstAsync(first);
        var refused = await SubscribeErrorAsync(hub, runId);
        await using var otherConnection = await fixture.ConnectedHubForAsync(tenant);
        var onOtherConnection = await SubscribeErrorAsync(otherConnection, runId);

        Assert.Equal(RunEventTypes.RunStarted, firstEvent.Type);
        Assert.NotNull(refused);
        Assert.EndsWith("HubException: [quota.subscriptions] This connection already has 1 active subscriptions, the tenant's limit; " +
            "end one (or open another connection) first.", refused.Message, StringComparison.Ordinal);
        Assert.Null(onOtherConnection); // the limit is per connection
        Assert.Equal(1, fixture.Rejections(tenant, "subscriptions"));

        await firstStop.CancelAsync();
        await Eventually.TrueAsync(async () => await SubscribeErrorAsync(hub, runId) is null, because: "an ended stream frees its place");
        Assert.Equal(1, await fixture.CountWorkflowsAsync(tenant));
    }

    [Fact]
    public async Task ChangedLimit_InConfigurationFile_AppliesWithoutRestart()
    {
        var tenant = GatewayFixture.NewTenant();
        await fixture.SetQuotasAsync(tenant, new { MaxConcurrentRuns = 1 });
        using var client = fixture.ClientFor(tenant);
        using var admitted = await StartAsync(client);
        using var refused = await StartAsync(client);

        await fixture.SetQuotasAsync(tenant, new { MaxConcurrentRuns = 2 });
        using var admittedAfterChange = await StartAsync(client);
        using var refusedAfterChange = await StartAsync(client);

        Assert.Equal(HttpStatusCode.Created, admitted.StatusCode);
        await AssertProblemAsync(refused, HttpStatusCode.TooManyRequests, "quota.concurrent_runs", retryAfterSeconds: 7);
        Assert.Equal(HttpStatusCode.Created, admittedAfterChange.StatusCode);
        await AssertProblemAsync(refusedAfterChange, HttpStatusCode.TooManyRequests, "quota.concurrent_runs", retryAfterSeconds: 7);
        Assert.Equal(2, await fixture.CountWorkflowsAsync(tenant));
    }

    [Fact]
    public async Task ChangedLimit_InvalidConfiguration_IsIgnoredAndThePreviousLimitsStay()
    {
        var tenant = GatewayFixture.NewTenant();
        await fixture.SetQuotasAsync(tenant, new { MaxConcurrentRuns = 1 });
        using var client = fixture.ClientFor(tenant);
        using var admitted = await StartAsync(client);

        await fixture.SetQuotasAsync(tenant, new { MaxConcurrentRuns = 0 }, expectInForce: false);
        using var refused = await StartAsync(client);

        Assert.Equal(HttpStatusCode.Created, admitted.StatusCode);
        await AssertProblemAsync(refused, HttpStatusCode.TooManyRequests, "quota.concurrent_runs", retryAfterSeconds: 7);
        Assert.Equal(1, await fixture.CountWorkflowsAsync(tenant));
        await fixture.SetQuotasAsync(tenant, new { MaxConcurrentRuns = 1 }); // valid again, for the tests after this one
    }

    private static Task<HttpResponseMessage> StartAsync(HttpClient client, string input = "hello") =>
        client.PostAsJsonAsync("v1/runs", new { flow = Flows.WriterReviewer, input });

    private static async Task<JsonElement> AssertProblemAsync(HttpResponseMessage response, HttpStatusCode status, string code, int? retryAfterSeconds)
    {
        Assert.Equal(status, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(code, problem.GetProperty("code").GetString());
        Assert.Equal((int)status, problem.GetProperty("status").GetInt32());
        if (retryAfterSeconds is { } expected)
        {
            Assert.Equal(expected, problem.GetProperty("retryAfterSeconds").GetInt32());
            Assert.Equal(TimeSpan.FromSeconds(expected), response.Headers.RetryAfter?.Delta);
        }
        else if (problem.TryGetProperty("retryAfterSeconds", out var seconds))
        {
            Assert.Equal(TimeSpan.FromSeconds(seconds.GetInt32()), response.Headers.RetryAfter?.Delta);
        }
        else
        {
            Assert.Null(response.Headers.RetryAfter);
        }
        return problem;
    }

    private async Task PublishStartedAsync(string tenant, string runId) =>
        await fixture.Host.Services.PublishRunEventsAsync(new RunEventsPublished
        {
            RunId = runId,
            TenantId = tenant,
            Events = [new RunEvent { Id = RunEventIds.ForRun(runId, RunEventTypes.RunStarted), RunId = runId, TenantId = tenant, Type = RunEventTypes.RunStarted, Ts = DateTimeOffset.UtcNow }],
        });

    private static async Task<RunEvent> ReadFirstAsync(System.Threading.Channels.ChannelReader<RunEvent> reader)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        // WaitToReadAsync surfaces the stream's error (a HubException) as it is.
        while (await reader.WaitToReadAsync(timeout.Token))
        {
            if (reader.TryRead(out var runEvent))
            {
                return runEvent;
            }
        }
        throw new InvalidOperationException("The stream ended without an event.");
    }

    /// <summary>Subscribes on <paramref name="hub"/>: the error if refused, null once the first event arrived (then unsubscribes).</summary>
    private static async Task<HubException?> SubscribeErrorAsync(HubConnection hub, string runId)
    {
        using var stop = new CancellationTokenSource();
        try
        {
            var reader = await hub.StreamAsChannelAsync<RunEvent>("Subscribe", runId, null, stop.Token);
            await ReadFirstAsync(reader);
            return null;
        }
        catch (HubException e)
        {
            return e;
        }
        finally
        {
            await stop.CancelAsync();
        }
    }
}
