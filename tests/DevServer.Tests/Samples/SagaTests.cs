using System.Collections.Concurrent;
using AgentOrchestrator.TestSupport;
using Temporalio.Activities;
using Temporalio.Api.Enums.V1;
using Temporalio.Client;
using Temporalio.Common;
using Temporalio.Exceptions;
using Temporalio.Worker;
using Temporalio.Workflows;

namespace AgentOrchestrator.DevServer.Tests.Samples;

/// <summary>A saga: a step fails non-retryably, registered compensations run in reverse, the original failure surfaces.</summary>
public sealed class SagaTests(DevServerFixture server) : IClassFixture<DevServerFixture>
{
    public sealed record Transfer(string From, string To, int Amount);

    public static class BankActivities
    {
        public static ConcurrentDictionary<string, ConcurrentQueue<string>> Journal { get; } = new();

        private static void Write(string entry) =>
            Journal.GetOrAdd(ActivityExecutionContext.Current.Info.WorkflowId!, _ => new()).Enqueue(entry);

        [Activity]
        public static void Withdraw(Transfer t) => Write($"withdraw {t.Amount} from {t.From}");

        [Activity]
        public static void UndoWithdraw(Transfer t) => Write($"refund {t.Amount} to {t.From}");

        [Activity]
        public static void Deposit(Transfer t) => Write($"deposit {t.Amount} to {t.To}");

        [Activity]
        public static void UndoDeposit(Transfer t) => Write($"reverse {t.Amount} from {t.To}");

        [Activity]
        public static void Settle(Transfer t)
        {
            Write($"settle attempt {ActivityExecutionContext.Current.Info.Attempt}");
            throw new ApplicationFailureException($"account {t.To} is frozen", "AccountFrozen", nonRetryable: true);
        }
    }

    [Workflow]
    public sealed class TransferWorkflow
    {
        // Retries are allowed in general; only the non-retryable flag stops the failing step.
        private static readonly ActivityOptions Options = new()
        {
            StartToCloseTimeout = TimeSpan.FromSeconds(30),
            RetryPolicy = new RetryPolicy { InitialInterval = TimeSpan.FromMilliseconds(100), MaximumAttempts = 5 },
        };

        [WorkflowRun]
        public async Task RunAsync(Transfer transfer)
        {
            var compensations = new Stack<Func<Task>>();
            try
            {
                compensations.Push(() => Workflow.ExecuteActivityAsync(() => BankActivities.UndoWithdraw(transfer), Options));
                await Workflow.ExecuteActivityAsync(() => BankActivities.Withdraw(transfer), Options);
                compensations.Push(() => Workflow.ExecuteActivityAsync(() => BankActivities.UndoDeposit(transfer), Options));
                await Workflow.ExecuteActivityAsync(() => BankActivities.Deposit(transfer), Options);
                await Workflow.ExecuteActivityAsync(() => BankActivities.Settle(transfer), Options);
            }
            catch (ActivityFailureException)
            {
                while (compensations.Count > 0)
                {
                    await compensations.Pop()();
                }
                throw;
            }
        }
    }

    [Fact]
    public async Task Saga_NonRetryableStepFails_CompensatesInReverseAndFailsWithCause()
    {
        var (client, taskQueue) = await server.ConnectWithNewTaskQueueAsync();
        var workflowId = $"wf-{Guid.NewGuid()}";
        await using var worker = WorkerScope.Start(client, new TemporalWorkerOptions(taskQueue)
            .AddWorkflow<TransferWorkflow>()
            .AddActivity(BankActivities.Withdraw)
            .AddActivity(BankActivities.UndoWithdraw)
            .AddActivity(BankActivities.Deposit)
            .AddActivity(BankActivities.UndoDeposit)
            .AddActivity(BankActivities.Settle));

        var handle = await client.StartWorkflowAsync((TransferWorkflow wf) => wf.RunAsync(new Transfer("alice", "bob", 42)),
            new WorkflowOptions(workflowId, taskQueue));

        var failed = await Assert.ThrowsAsync<WorkflowFailedException>(() => handle.GetResultAsync());
        var activityFailure = Assert.IsType<ActivityFailureException>(failed.InnerException);
        Assert.Equal("Settle", activityFailure.ActivityType);
        Assert.Equal(RetryState.NonRetryableFailure, activityFailure.RetryState);
        var cause = Assert.IsType<ApplicationFailureException>(activityFailure.InnerException);
        Assert.Equal("AccountFrozen", cause.ErrorType);
        Assert.Equal("account bob is frozen", cause.Message);
        Assert.True(cause.NonRetryable);

        Assert.Equal(
            ["withdraw 42 from alice", "deposit 42 to bob", "settle attempt 1", "reverse 42 from bob", "refund 42 to alice"],
            BankActivities.Journal[workflowId]);

        var history = await handle.FetchHistoryAsync();
        Assert.Equal(
            ["Withdraw", "Deposit", "Settle", "UndoDeposit", "UndoWithdraw"],
            history.Events.Where(e => e.EventType == EventType.ActivityTaskScheduled)
                .Select(e => e.ActivityTaskScheduledEventAttributes.ActivityType.Name));
        var activityFailed = Assert.Single(history.Events, e => e.EventType == EventType.ActivityTaskFailed);
        Assert.Equal(RetryState.NonRetryableFailure, activityFailed.ActivityTaskFailedEventAttributes.RetryState);
        var closed = history.Events.Last();
        Assert.Equal(EventType.WorkflowExecutionFailed, closed.EventType);
        Assert.Equal("account bob is frozen", closed.WorkflowExecutionFailedEventAttributes.Failure.Cause.Message);
        await Replay.AssertDeterministicAsync(history, typeof(TransferWorkflow));
    }
}
