using AgentOrchestrator.DevServer.Matching;

namespace AgentOrchestrator.DevServer.Tests.Matching;

public sealed class FairBacklogTests
{
    [Fact]
    public void TryDequeue_WeightedKeys_ServesInProportionWhileBothHaveWork()
    {
        var backlog = new FairBacklog<string>();
        for (var i = 0; i < 30; i++)
        {
            backlog.Enqueue("a", new DispatchKey(3, "a", 2f));
            backlog.Enqueue("b", new DispatchKey(3, "b", 1f));
        }
        var firstThirty = new List<string>();
        for (var i = 0; i < 30; i++)
        {
            Assert.True(backlog.TryDequeue(out var item));
            firstThirty.Add(item);
        }
        Assert.Equal(20, firstThirty.Count(x => x == "a"));
    }

    [Fact]
    public void TryDequeue_IdleKeyReturns_DoesNotBankCredit()
    {
        var backlog = new FairBacklog<string>();
        for (var i = 0; i < 10; i++)
        {
            backlog.Enqueue("busy", new DispatchKey(3, "busy", 1f));
        }
        for (var i = 0; i < 8; i++)
        {
            backlog.TryDequeue(out _);
        }
        // A key that was idle while another was served competes from now on, it does not get a burst.
        for (var i = 0; i < 5; i++)
        {
            backlog.Enqueue("late", new DispatchKey(3, "late", 1f));
        }
        var next = new List<string>();
        while (backlog.TryDequeue(out var item))
        {
            next.Add(item);
        }
        Assert.Equal(["late", "busy", "late", "busy", "late", "late", "late"], next.Take(7));
    }

    [Fact]
    public void TryDequeue_PriorityKeys_LowerKeyFirstAndFifoWithinKey()
    {
        var backlog = new FairBacklog<int>();
        backlog.Enqueue(1, new DispatchKey(5, string.Empty, 1f));
        backlog.Enqueue(2, new DispatchKey(1, string.Empty, 1f));
        backlog.Enqueue(3, new DispatchKey(3, string.Empty, 1f));
        backlog.Enqueue(4, new DispatchKey(1, string.Empty, 1f));
        var order = new List<int>();
        while (backlog.TryDequeue(out var item))
        {
            order.Add(item);
        }
        Assert.Equal([2, 4, 3, 1], order);
    }
}
