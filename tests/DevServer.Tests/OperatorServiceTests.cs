using AgentOrchestrator.TestSupport;
using Temporalio.Api.Enums.V1;
using Temporalio.Api.OperatorService.V1;
using Temporalio.Exceptions;

namespace AgentOrchestrator.DevServer.Tests;

/// <summary>OperatorService search attributes: list, add and remove per namespace, as the SDK's tests and the UI use them.</summary>
public sealed class OperatorServiceTests(DevServerFixture server) : IClassFixture<DevServerFixture>
{
    [Fact]
    public async Task ListSearchAttributes_ShowsSystemAndPreregisteredCustomAttributes()
    {
        var client = await server.ConnectClientAsync();

        var listed = await client.OperatorService.ListSearchAttributesAsync(new ListSearchAttributesRequest { Namespace = server.Namespace });

        Assert.Equal(IndexedValueType.Keyword, listed.SystemAttributes["WorkflowId"]);
        Assert.Equal(IndexedValueType.Datetime, listed.SystemAttributes["StartTime"]);
        Assert.Equal(IndexedValueType.KeywordList, listed.SystemAttributes["TemporalChangeVersion"]);
        Assert.Equal(IndexedValueType.Keyword, listed.CustomAttributes["CustomKeywordField"]);
        Assert.Equal(IndexedValueType.Int, listed.CustomAttributes["CustomIntField"]);
    }

    [Fact]
    public async Task AddThenRemove_CustomAttributes_AreListedThenGone()
    {
        var client = await server.ConnectClientAsync();
        var keyword = $"Team{Guid.NewGuid():N}";
        var number = $"Priority{Guid.NewGuid():N}";

        await client.OperatorService.AddSearchAttributesAsync(new AddSearchAttributesRequest
        {
            Namespace = server.Namespace,
            SearchAttributes = { [keyword] = IndexedValueType.Keyword, [number] = IndexedValueType.Int },
        });
        // Adding the same attribute with the same type again is accepted (the SDK's test setup relies on it).
        await client.OperatorService.AddSearchAttributesAsync(new AddSearchAttributesRequest
        {
            Namespace = server.Namespace,
            SearchAttributes = { [keyword] = IndexedValueType.Keyword },
        });
        var listed = await client.OperatorService.ListSearchAttributesAsync(new ListSearchAttributesRequest { Namespace = server.Namespace });
        Assert.Equal(IndexedValueType.Keyword, listed.CustomAttributes[keyword]);
        Assert.Equal(IndexedValueType.Int, listed.CustomAttributes[number]);

        await client.OperatorService.RemoveSearchAttributesAsync(new RemoveSearchAttributesRequest { Namespace = server.Namespace, SearchAttributes = { keyword } });
        listed = await client.OperatorService.ListSearchAttributesAsync(new ListSearchAttributesRequest { Namespace = server.Namespace });
        Assert.DoesNotContain(keyword, listed.CustomAttributes.Keys);
        Assert.Contains(number, listed.CustomAttributes.Keys);
    }

    [Fact]
    public async Task BadChanges_AreRefusedWithTypedErrors_AndChangeNothing()
    {
        var client = await server.ConnectClientAsync();
        var fresh = $"Fresh{Guid.NewGuid():N}";

        var reserved = await Assert.ThrowsAsync<RpcException>(() => client.OperatorService.AddSearchAttributesAsync(new AddSearchAttributesRequest
        {
            Namespace = server.Namespace,
            SearchAttributes = { [fresh] = IndexedValueType.Keyword, ["WorkflowId"] = IndexedValueType.Keyword },
        }));
        Assert.Equal(RpcException.StatusCode.InvalidArgument, reserved.Code);

        var conflict = await Assert.ThrowsAsync<RpcException>(() => client.OperatorService.AddSearchAttributesAsync(new AddSearchAttributesRequest
        {
            Namespace = server.Namespace,
            SearchAttributes = { ["CustomKeywordField"] = IndexedValueType.Int },
        }));
        Assert.Equal(RpcException.StatusCode.AlreadyExists, conflict.Code);

        var missing = await Assert.ThrowsAsync<RpcException>(() => client.OperatorService.RemoveSearchAttributesAsync(new RemoveSearchAttributesRequest
        {
            Namespace = server.Namespace,
            SearchAttributes = { $"Missing{Guid.NewGuid():N}" },
        }));
        Assert.Equal(RpcException.StatusCode.NotFound, missing.Code);

        var system = await Assert.ThrowsAsync<RpcException>(() => client.OperatorService.RemoveSearchAttributesAsync(new RemoveSearchAttributesRequest
        {
            Namespace = server.Namespace,
            SearchAttributes = { "StartTime" },
        }));
        Assert.Equal(RpcException.StatusCode.InvalidArgument, system.Code);

        var listed = await client.OperatorService.ListSearchAttributesAsync(new ListSearchAttributesRequest { Namespace = server.Namespace });
        Assert.DoesNotContain(fresh, listed.CustomAttributes.Keys);
        Assert.Equal(IndexedValueType.Keyword, listed.CustomAttributes["CustomKeywordField"]);
    }
}
