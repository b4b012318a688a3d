using AgentOrchestrator.DevServer.Visibility;
using Google.Protobuf;
using Temporalio.Api.Common.V1;
using Temporalio.Api.Enums.V1;

namespace AgentOrchestrator.DevServer.Tests.Visibility;

public sealed class VisibilityQueryTests
{
    private static readonly DateTime SampleStart = new(2026, 1, 15, 10, 0, 0, DateTimeKind.Utc);

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("   \t\n")]
    public void Parse_NullOrBlank_MatchesEverythingWithDefaults(string? query)
    {
        var parsed = VisibilityQuery.Parse(query);

        Assert.True(parsed.Matches(Sample()));
        Assert.True(parsed.Matches(new TestRecord()));
        Assert.Empty(parsed.GroupBy);
    }

    [Theory]
    [InlineData("WorkflowId = 'order-42'", true)]
    [InlineData("WorkflowId = 'order-43'", false)]
    [InlineData("WorkflowId = 'ORDER-42'", false)]
    [InlineData("WorkflowId != 'order-43'", true)]
    [InlineData("WorkflowId != 'order-42'", false)]
    [InlineData("WorkflowId <> 'order-42'", false)]
    [InlineData("WorkflowId <> 'order-43'", true)]
    [InlineData("WorkflowId > 'order-41'", true)]
    [InlineData("WorkflowId > 'order-42'", false)]
    [InlineData("WorkflowId >= 'order-42'", true)]
    [InlineData("WorkflowId < 'order-42'", false)]
    [InlineData("WorkflowId < 'order-43'", true)]
    [InlineData("WorkflowId <= 'order-42'", true)]
    [InlineData("WorkflowId <= 'order-41'", false)]
    [InlineData("WorkflowId IN ('a', 'order-42')", true)]
    [InlineData("WorkflowId IN ('a', 'b')", false)]
    [InlineData("WorkflowId NOT IN ('a', 'b')", true)]
    [InlineData("WorkflowId NOT IN ('order-42')", false)]
    [InlineData("WorkflowId STARTS_WITH 'order-'", true)]
    [InlineData("WorkflowId STARTS_WITH 'Order-'", false)]
    [InlineData("WorkflowId NOT STARTS_WITH 'invoice-'", true)]
    [InlineData("WorkflowId NOT STARTS_WITH 'order'", false)]
    [InlineData("WorkflowId BETWEEN 'order-40' AND 'order-49'", true)]
    [InlineData("WorkflowId BETWEEN 'order-43' AND 'order-49'", false)]
    [InlineData("WorkflowId NOT BETWEEN 'order-40' AND 'order-49'", false)]
    [InlineData("WorkflowId NOT BETWEEN 'order-43' AND 'order-49'", true)]
    [InlineData("WorkflowId IS NULL", false)]
    [InlineData("WorkflowId IS NOT NULL", true)]
    [InlineData("WorkflowId = \"order-42\"", true)]
    [InlineData("`WorkflowId` = 'order-42'", true)]
    public void Matches_OperatorsOnStringField_ReturnExpected(string query, bool expected)
    {
        Assert.Equal(expected, VisibilityQuery.Parse(query).Matches(Sample()));
    }

    [Theory]
    [InlineData("RunId = 'run-1'", true)]
    [InlineData("RunId = 'run-2'", false)]
    [InlineData("WorkflowType = 'OrderWorkflow'", true)]
    [InlineData("WorkflowType STARTS_WITH 'Invoice'", false)]
    [InlineData("TaskQueue = 'orders'", true)]
    [InlineData("TaskQueue IN ('billing')", false)]
    [InlineData("ParentWorkflowId = 'parent-wf'", true)]
    [InlineData("ParentWorkflowId IS NOT NULL", true)]
    [InlineData("ParentWorkflowId IS NULL", false)]
    [InlineData("ParentRunId = 'parent-run'", true)]
    [InlineData("ParentRunId != 'parent-run'", false)]
    [InlineData("HistoryLength = 12", true)]
    [InlineData("HistoryLength != 12", false)]
    [InlineData("HistoryLength > 10", true)]
    [InlineData("HistoryLength >= 13", false)]
    [InlineData("HistoryLength < 12.5", true)]
    [InlineData("HistoryLength <= 11", false)]
    [InlineData("HistoryLength > -1", true)]
    [InlineData("HistoryLength BETWEEN 10 AND 12", true)]
    [InlineData("HistoryLength IN (1, 2, 12)", true)]
    [InlineData("HistoryLength NOT IN (1, 2, 12)", false)]
    [InlineData("ExecutionStatus = 'Running'", true)]
    [InlineData("ExecutionStatus = 'running'", true)]
    [InlineData("ExecutionStatus = \"RUNNING\"", true)]
    [InlineData("ExecutionStatus != 'Running'", false)]
    [InlineData("ExecutionStatus <> 'Completed'", true)]
    [InlineData("ExecutionStatus IN ('Completed', 'Failed')", false)]
    [InlineData("ExecutionStatus NOT IN ('Completed', 'Failed')", true)]
    [InlineData("ExecutionStatus = 1", true)]
    [InlineData("ExecutionStatus IS NOT NULL", true)]
    public void Matches_OtherSystemFields_ReturnExpected(string query, bool expected)
    {
        Assert.Equal(expected, VisibilityQuery.Parse(query).Matches(Sample()));
    }

    [Fact]
    public void Matches_ParentFieldsOnTopLevelWorkflow_AreAbsent()
    {
        var topLevel = new TestRecord { ParentWorkflowId = null, ParentRunId = string.Empty };

        Assert.True(VisibilityQuery.Parse("ParentWorkflowId IS NULL AND ParentRunId IS NULL").Matches(topLevel));
        Assert.False(VisibilityQuery.Parse("ParentWorkflowId != 'parent-wf'").Matches(topLevel));
    }

    [Theory]
    [InlineData("Running", WorkflowExecutionStatus.Running)]
    [InlineData("Completed", WorkflowExecutionStatus.Completed)]
    [InlineData("Failed", WorkflowExecutionStatus.Failed)]
    [InlineData("Canceled", WorkflowExecutionStatus.Canceled)]
    [InlineData("Terminated", WorkflowExecutionStatus.Terminated)]
    [InlineData("ContinuedAsNew", WorkflowExecutionStatus.ContinuedAsNew)]
    [InlineData("TimedOut", WorkflowExecutionStatus.TimedOut)]
    public void Matches_ExecutionStatusByName_MatchesOnlyThatStatus(string name, WorkflowExecutionStatus status)
    {
        var query = VisibilityQuery.Parse($"ExecutionStatus = '{name}'");

        foreach (WorkflowExecutionStatus candidate in Enum.GetValues<WorkflowExecutionStatus>())
        {
            Assert.Equal(candidate == status, query.Matches(new TestRecord { Status = candidate }));
        }
    }

    [Theory]
    [InlineData("StartTime = '2026-01-15T10:00:00Z'", true)]
    [InlineData("StartTime = '2026-01-15t10:00:00z'", true)]
    [InlineData("StartTime = '2026-01-15T11:00:00+01:00'", true)]
    [InlineData("StartTime = '2026-01-15T05:00:00-05:00'", true)]
    [InlineData("StartTime = '2026-01-15T10:00:00.000000000Z'", true)]
    [InlineData("StartTime = '2026-01-15T10:00:00.001Z'", false)]
    [InlineData("StartTime > '2026-01-15T09:59:59.999Z'", true)]
    [InlineData("StartTime > '2026-01-15T05:00:00-05:00'", false)]
    [InlineData("StartTime >= '2026-01-15T05:00:00-05:00'", true)]
    [InlineData("StartTime < '2026-01-15T10:00:00.0000001Z'", true)]
    [InlineData("StartTime <= '2026-01-15T09:59:59Z'", false)]
    [InlineData("StartTime != '2026-01-15T10:00:00Z'", false)]
    [InlineData("StartTime BETWEEN '2026-01-01T00:00:00Z' AND '2026-02-01T00:00:00Z'", true)]
    [InlineData("StartTime NOT BETWEEN '2026-01-01T00:00:00Z' AND '2026-02-01T00:00:00Z'", false)]
    [InlineData("StartTime IN ('2020-01-01T00:00:00Z', '2026-01-15T10:00:00Z')", true)]
    [InlineData("ExecutionTime = '2026-01-15T10:00:05Z'", true)]
    [InlineData("ExecutionTime > '2026-01-15T10:00:05Z'", false)]
    [InlineData("CloseTime IS NULL", true)]
    [InlineData("CloseTime IS NOT NULL", false)]
    [InlineData("CloseTime > '2000-01-01T00:00:00Z'", false)]
    [InlineData("CloseTime != '2000-01-01T00:00:00Z'", false)]
    public void Matches_TimeFieldsOnRunningWorkflow_CompareAsInstants(string query, bool expected)
    {
        Assert.Equal(expected, VisibilityQuery.Parse(query).Matches(Sample()));
    }

    [Fact]
    public void Matches_CloseTimeOfClosedWorkflow_ComparesAsInstant()
    {
        var closed = new TestRecord
        {
            Status = WorkflowExecutionStatus.Completed,
            CloseTime = new DateTime(2026, 1, 15, 12, 30, 0, DateTimeKind.Utc),
        };

        Assert.True(VisibilityQuery.Parse("CloseTime IS NOT NULL").Matches(closed));
        Assert.True(VisibilityQuery.Parse("CloseTime >= '2026-01-15T12:30:00Z'").Matches(closed));
        Assert.True(VisibilityQuery.Parse("CloseTime < '2026-01-15T13:30:00.5+01:00'").Matches(closed));
        Assert.False(VisibilityQuery.Parse("CloseTime < '2026-01-15T12:30:00Z'").Matches(closed));
    }

    [Theory]
    [InlineData("TenantId = 'tenant-a'", true)]
    [InlineData("TenantId = 'tenant-b'", false)]
    [InlineData("TenantId = 'TENANT-A'", false)]
    [InlineData("TenantId != 'tenant-b'", true)]
    [InlineData("TenantId IN ('tenant-b', 'tenant-a')", true)]
    [InlineData("TenantId NOT IN ('tenant-b', 'tenant-a')", false)]
    [InlineData("TenantId STARTS_WITH 'tenant-'", true)]
    [InlineData("TenantId > 'tenant-0'", true)]
    [InlineData("TenantId BETWEEN 'tenant-a' AND 'tenant-z'", true)]
    [InlineData("TenantId IS NOT NULL", true)]
    [InlineData("TenantId IS NULL", false)]
    [InlineData("`TenantId` = 'tenant-a'", true)]
    public void Matches_KeywordAttribute_ComparesExactly(string query, bool expected)
    {
        Assert.Equal(expected, VisibilityQuery.Parse(query).Matches(Sample()));
    }

    [Theory]
    [InlineData("Tags = 'red'", true)]
    [InlineData("Tags = 'blue'", true)]
    [InlineData("Tags = 'green'", false)]
    [InlineData("Tags != 'green'", true)]
    [InlineData("Tags != 'red'", false)]
    [InlineData("Tags IN ('green', 'blue')", true)]
    [InlineData("Tags IN ('green', 'yellow')", false)]
    [InlineData("Tags NOT IN ('green', 'yellow')", true)]
    [InlineData("Tags NOT IN ('green', 'red')", false)]
    [InlineData("Tags STARTS_WITH 'bl'", true)]
    [InlineData("Tags STARTS_WITH 'gr'", false)]
    [InlineData("Tags IS NOT NULL", true)]
    public void Matches_KeywordListAttribute_UsesContainsAndOverlap(string query, bool expected)
    {
        Assert.Equal(expected, VisibilityQuery.Parse(query).Matches(Sample()));
    }

    [Theory]
    [InlineData("Description = 'billing run'", true)]
    [InlineData("Description = 'Nightly Billing Run for ACME'", true)]
    [InlineData("Description = 'invoice'", false)]
    [InlineData("Description != 'invoice'", true)]
    [InlineData("Description != 'acme'", false)]
    [InlineData("Description IN ('invoice', 'NIGHTLY')", true)]
    [InlineData("Description STARTS_WITH 'nightly'", true)]
    [InlineData("Description STARTS_WITH 'billing'", false)]
    [InlineData("Description > 'A'", false)]
    public void Matches_TextAttribute_UsesCaseInsensitiveContains(string query, bool expected)
    {
        Assert.Equal(expected, VisibilityQuery.Parse(query).Matches(Sample()));
    }

    [Theory]
    [InlineData("Priority = 5", true)]
    [InlineData("Priority != 4", true)]
    [InlineData("Priority > 4", true)]
    [InlineData("Priority >= 6", false)]
    [InlineData("Priority < 5.5", true)]
    [InlineData("Priority <= 4.99", false)]
    [InlineData("Priority BETWEEN 1 AND 5", true)]
    [InlineData("Priority IN (1, 5)", true)]
    [InlineData("Priority NOT IN (1, 5)", false)]
    [InlineData("Priority = '5'", false)]
    [InlineData("Score = 2.5", true)]
    [InlineData("Score > 2", true)]
    [InlineData("Score < 2.5", false)]
    [InlineData("Score >= 25e-1", true)]
    [InlineData("Score BETWEEN -1 AND 3", true)]
    [InlineData("Balance < -10", true)]
    [InlineData("Balance = -12.75", true)]
    public void Matches_NumericAttributes_CompareNumerically(string query, bool expected)
    {
        Assert.Equal(expected, VisibilityQuery.Parse(query).Matches(Sample()));
    }

    [Theory]
    [InlineData("IsVip = true", true)]
    [InlineData("IsVip = TRUE", true)]
    [InlineData("IsVip = false", false)]
    [InlineData("IsVip != false", true)]
    [InlineData("IsVip IN (false)", false)]
    [InlineData("IsVip = 'true'", false)]
    public void Matches_BoolAttribute_ComparesBooleans(string query, bool expected)
    {
        Assert.Equal(expected, VisibilityQuery.Parse(query).Matches(Sample()));
    }

    [Theory]
    [InlineData("DueAt = '2026-02-01T12:00:00Z'", true)]
    [InlineData("DueAt = '2026-02-01T13:00:00+01:00'", true)]
    [InlineData("DueAt = '2026-02-01T12:00:00.0000000Z'", true)]
    [InlineData("DueAt > '2026-01-31T00:00:00Z'", true)]
    [InlineData("DueAt < '2026-01-31T00:00:00Z'", false)]
    [InlineData("DueAt BETWEEN '2026-02-01T00:00:00Z' AND '2026-02-02T00:00:00Z'", true)]
    [InlineData("DueAt = 'not-a-date'", false)]
    public void Matches_DatetimeAttribute_ComparesAsInstants(string query, bool expected)
    {
        Assert.Equal(expected, VisibilityQuery.Parse(query).Matches(Sample()));
    }

    [Theory]
    [InlineData("Missing = 'x'", false)]
    [InlineData("Missing != 'x'", false)]
    [InlineData("Missing IN ('x')", false)]
    [InlineData("Missing NOT IN ('x')", false)]
    [InlineData("Missing NOT STARTS_WITH 'x'", false)]
    [InlineData("Missing > 0", false)]
    [InlineData("Missing IS NULL", true)]
    [InlineData("Missing IS NOT NULL", false)]
    [InlineData("`Missing` IS NULL", true)]
    [InlineData("`ORDER` IS NULL", true)]
    public void Matches_AbsentAttribute_OnlyMatchesIsNull(string query, bool expected)
    {
        Assert.Equal(expected, VisibilityQuery.Parse(query).Matches(Sample()));
    }

    [Theory]
    [InlineData("null")]
    [InlineData("[]")]
    [InlineData("")]
    [InlineData("{not json")]
    public void Matches_NullEmptyOrMalformedPayload_CountsAsAbsent(string json)
    {
        var record = new TestRecord { SearchAttributes = Attributes(("TenantId", Attr("Keyword", json))) };

        Assert.True(VisibilityQuery.Parse("TenantId IS NULL").Matches(record));
        Assert.False(VisibilityQuery.Parse("TenantId != 'tenant-a'").Matches(record));
    }

    [Fact]
    public void Matches_BinaryNullEncoding_CountsAsAbsent()
    {
        var unset = new Payload { Metadata = { ["encoding"] = ByteString.CopyFromUtf8("binary/null") } };
        var record = new TestRecord { SearchAttributes = Attributes(("TenantId", unset)) };

        Assert.True(VisibilityQuery.Parse("TenantId IS NULL").Matches(record));
        Assert.False(VisibilityQuery.Parse("TenantId = 'tenant-a'").Matches(record));
    }

    [Fact]
    public void Matches_PayloadWithoutTypeMetadata_InfersTypeFromJson()
    {
        var untyped = new Payload
        {
            Metadata = { ["encoding"] = ByteString.CopyFromUtf8("json/plain") },
            Data = ByteString.CopyFromUtf8("7"),
        };
        var record = new TestRecord { SearchAttributes = Attributes(("Retries", untyped)) };

        Assert.True(VisibilityQuery.Parse("Retries > 5").Matches(record));
        Assert.False(VisibilityQuery.Parse("Retries = '7'").Matches(record));
    }

    [Theory]
    // AND binds tighter than OR: false AND true OR true == true (left-to-right would give false).
    [InlineData("WorkflowId = 'x' AND TaskQueue = 'orders' OR TenantId = 'tenant-a'", true)]
    // true OR false AND false == true (left-to-right would give false).
    [InlineData("TenantId = 'tenant-a' OR WorkflowId = 'x' AND TaskQueue = 'nope'", true)]
    [InlineData("(TenantId = 'tenant-a' OR WorkflowId = 'x') AND TaskQueue = 'nope'", false)]
    [InlineData("((WorkflowId = 'order-42'))", true)]
    [InlineData("WorkflowId = 'x' OR (TaskQueue = 'orders' AND (Priority > 3 OR IsVip = false))", true)]
    [InlineData("WorkflowId = 'x' OR (TaskQueue = 'orders' AND (Priority > 7 OR IsVip = false))", false)]
    [InlineData("TenantId = 'tenant-a' and Priority = 5 Or WorkflowId = 'x'", true)]
    [InlineData("WorkflowId in ('order-42') AND TaskQueue starts_with 'ord' AND Priority between 4 and 6", true)]
    [InlineData("ExecutionStatus = 'Running' AND StartTime > '2026-01-01T00:00:00Z' AND TenantId = 'tenant-a'", true)]
    public void Matches_AndOrAndParentheses_FollowPrecedence(string query, bool expected)
    {
        Assert.Equal(expected, VisibilityQuery.Parse(query).Matches(Sample()));
    }

    [Theory]
    [InlineData("WorkflowId = 'it''s \"q\"'")]
    [InlineData("WorkflowId = 'it\\'s \"q\"'")]
    [InlineData("WorkflowId = \"it's \\\"q\\\"\"")]
    [InlineData("WorkflowId = \"it's \"\"q\"\"\"")]
    public void Matches_EscapedQuotesInStringLiteral_AreUnescaped(string query)
    {
        Assert.True(VisibilityQuery.Parse(query).Matches(new TestRecord { WorkflowId = "it's \"q\"" }));
    }

    [Fact]
    public void Order_NoOrderBy_SortsByStartTimeDescendingThenRunId()
    {
        TestRecord[] records =
        [
            new() { RunId = "b", StartTime = SampleStart },
            new() { RunId = "c", StartTime = SampleStart.AddMinutes(1) },
            new() { RunId = "a", StartTime = SampleStart },
            new() { RunId = "d", StartTime = SampleStart.AddMinutes(-1) },
        ];

        Assert.Equal(["c", "a", "b", "d"], Sorted(VisibilityQuery.Parse(null), records));
        Assert.Equal(["c", "a", "b", "d"], Sorted(VisibilityQuery.Parse("TaskQueue = 'orders'"), records));
    }

    [Theory]
    [InlineData("ORDER BY StartTime", "d,a,b,c")]
    [InlineData("ORDER BY StartTime ASC", "d,a,b,c")]
    [InlineData("order by StartTime desc", "c,a,b,d")]
    [InlineData("ORDER BY WorkflowId DESC", "d,c,b,a")]
    [InlineData("ORDER BY HistoryLength DESC, StartTime", "b,d,a,c")]
    [InlineData("ORDER BY CloseTime", "a,c,b,d")]
    [InlineData("ORDER BY CloseTime DESC", "b,d,c,a")]
    [InlineData("ORDER BY ExecutionStatus, WorkflowId DESC", "d,b,c,a")]
    [InlineData("TaskQueue = 'orders' ORDER BY `ExecutionTime` DESC", "a,c,b,d")]
    public void Order_OrderByClause_SortsBySystemFields(string query, string expectedRunIds)
    {
        // a/c are completed (closed at +5/+10 min), b/d are running (no CloseTime); RunId breaks remaining ties.
        TestRecord[] records =
        [
            new()
            {
                RunId = "a", WorkflowId = "wf-1", StartTime = SampleStart, ExecutionTime = SampleStart.AddSeconds(30),
                HistoryLength = 20,
                Status = WorkflowExecutionStatus.Completed, CloseTime = SampleStart.AddMinutes(5),
            },
            new()
            {
                RunId = "b", WorkflowId = "wf-2", StartTime = SampleStart, ExecutionTime = SampleStart.AddSeconds(10),
                HistoryLength = 30,
            },
            new()
            {
                RunId = "c", WorkflowId = "wf-3", StartTime = SampleStart.AddMinutes(1),
                ExecutionTime = SampleStart.AddSeconds(20), HistoryLength = 10,
                Status = WorkflowExecutionStatus.Completed, CloseTime = SampleStart.AddMinutes(10),
            },
            new()
            {
                RunId = "d", WorkflowId = "wf-4", StartTime = SampleStart.AddMinutes(-1),
                ExecutionTime = SampleStart.AddSeconds(-10), HistoryLength = 20,
            },
        ];

        Assert.Equal(expectedRunIds.Split(','), Sorted(VisibilityQuery.Parse(query), records));
    }

    [Theory]
    [InlineData("GROUP BY ExecutionStatus")]
    [InlineData("group by `ExecutionStatus`")]
    [InlineData("TenantId = 'tenant-a' GROUP BY ExecutionStatus")]
    [InlineData("TenantId = 'tenant-a' GROUP BY ExecutionStatus ORDER BY StartTime")]
    [InlineData("TenantId = 'tenant-a' ORDER BY StartTime DESC GROUP BY ExecutionStatus")]
    public void GroupBy_ExecutionStatus_IsExposedAndFilterStillApplies(string query)
    {
        var parsed = VisibilityQuery.Parse(query);

        Assert.Equal(["ExecutionStatus"], parsed.GroupBy);
        Assert.True(parsed.Matches(Sample()));
    }

    [Fact]
    public void GroupBy_NoClause_IsEmpty()
    {
        Assert.Empty(VisibilityQuery.Parse("WorkflowId = 'order-42' ORDER BY StartTime").GroupBy);
    }

    [Theory]
    [InlineData("WorkflowId = 'abc", "unterminated string literal (at position 14)")]
    [InlineData("WorkflowId = 'abc\\", "unterminated string literal (at position 14)")]
    [InlineData("`WorkflowId = 'a'", "unterminated quoted identifier (missing closing backtick) (at position 1)")]
    [InlineData("`` = 'a'", "empty quoted identifier")]
    [InlineData("WorkflowId == 'a'", "invalid operator '=='; expected =, !=, <>, >, >=, < or <= (at position 12)")]
    [InlineData("WorkflowId => 'a'", "invalid operator '=>'")]
    [InlineData("WorkflowId ! 'a'", "invalid operator '!'")]
    [InlineData("WorkflowId = 'a' @", "unexpected character '@' (at position 18)")]
    [InlineData("WorkflowId = 'a'; DROP", "unexpected character ';'")]
    [InlineData("HistoryLength = 12abc", "invalid number '12abc'")]
    [InlineData("HistoryLength = 1.2.3", "invalid number '1.2.3'")]
    [InlineData("HistoryLength = 99999999999999999999", "integer '99999999999999999999' is out of range")]
    [InlineData("Score = 1e999", "number '1e999' is out of range")]
    [InlineData("WorkflowId 'a'", "unexpected string 'a'; expected an operator")]
    [InlineData("WorkflowId LIKE 'a%'", "unexpected 'LIKE'; expected an operator")]
    [InlineData("WorkflowId", "unexpected end of query; expected an operator")]
    [InlineData("WorkflowId = 'a' AND", "unexpected end of query; expected a search attribute name or '(' (at position 21)")]
    [InlineData("AND WorkflowId = 'a'", "unexpected 'AND'; expected a search attribute name or '(' (at position 1)")]
    [InlineData("WorkflowId = 'a' TaskQueue = 'b'", "unexpected 'TaskQueue'; expected AND, OR, ORDER BY, GROUP BY or end of query (at position 18)")]
    [InlineData("(WorkflowId = 'a'", "unexpected end of query; expected ')' to close the '(' at position 1")]
    [InlineData("WorkflowId = 'a')", "unexpected ')'; expected AND, OR, ORDER BY, GROUP BY or end of query")]
    [InlineData("()", "unexpected ')'; expected a search attribute name or '('")]
    [InlineData("WorkflowId = ", "unexpected end of query; expected a value (string, number, true or false)")]
    [InlineData("WorkflowId = abc", "expected a value but found identifier 'abc'; string values must be quoted")]
    [InlineData("WorkflowId = NULL", "NULL cannot be compared with an operator; use IS NULL or IS NOT NULL")]
    [InlineData("WorkflowId IN ()", "IN list must not be empty")]
    [InlineData("WorkflowId IN 'a'", "unexpected string 'a'; expected '(' to start the IN list")]
    [InlineData("WorkflowId IN ('a' 'b')", "unexpected string 'b'; expected ',' or ')' in the IN list opened at position 15")]
    [InlineData("WorkflowId BETWEEN 'a' OR 'b'", "unexpected 'OR'; expected AND between the BETWEEN bounds")]
    [InlineData("WorkflowId IS 'a'", "unexpected string 'a'; expected NULL after IS")]
    [InlineData("WorkflowId IS NOT 'a'", "expected NULL after IS NOT")]
    [InlineData("WorkflowId NOT LIKE 'a'", "unexpected 'LIKE'; expected IN, BETWEEN or STARTS_WITH after NOT")]
    [InlineData("WorkflowId = 42", "WorkflowId expects a string value, got 42")]
    [InlineData("TaskQueue IN ('a', true)", "TaskQueue expects a string value, got true")]
    [InlineData("HistoryLength > 'ten'", "HistoryLength expects a number, got 'ten'")]
    [InlineData("StartTime > '2026-13-01T00:00:00Z'", "invalid datetime value '2026-13-01T00:00:00Z' for StartTime; expected RFC 3339")]
    [InlineData("StartTime > '2026-02-30T00:00:00Z'", "invalid datetime value '2026-02-30T00:00:00Z' for StartTime")]
    [InlineData("StartTime > '2026-01-01'", "invalid datetime value '2026-01-01' for StartTime")]
    [InlineData("CloseTime < '2026-01-01T00:00:00'", "invalid datetime value '2026-01-01T00:00:00' for CloseTime")]
    [InlineData("CloseTime BETWEEN '2026-01-01T00:00:00Z' AND 'later'", "invalid datetime value 'later' for CloseTime")]
    [InlineData("ExecutionTime = 5", "invalid datetime value 5 for ExecutionTime")]
    [InlineData("ExecutionStatus = 'Done'", "invalid ExecutionStatus value 'Done'; expected one of Running, Completed, Failed, Canceled, Terminated, ContinuedAsNew, TimedOut")]
    [InlineData("ExecutionStatus IN ('Running', 'Cancelled')", "invalid ExecutionStatus value 'Cancelled'")]
    [InlineData("ExecutionStatus = 99", "invalid ExecutionStatus value 99")]
    [InlineData("ExecutionStatus > 'Running'", "operator > is not supported for ExecutionStatus; use =, !=, IN or NOT IN")]
    [InlineData("ExecutionStatus STARTS_WITH 'Run'", "operator STARTS_WITH is not supported for ExecutionStatus")]
    [InlineData("StartTime STARTS_WITH '2026'", "STARTS_WITH is only supported for string fields, not StartTime")]
    [InlineData("TenantId STARTS_WITH 5", "STARTS_WITH on 'TenantId' expects a string value")]
    [InlineData("workflowId = 'a'", "unknown search attribute 'workflowId'; did you mean 'WorkflowId'? (names are case-sensitive) (at position 1)")]
    [InlineData("GROUP BY WorkflowType", "GROUP BY supports only ExecutionStatus, not 'WorkflowType' (at position 10)")]
    [InlineData("GROUP BY TenantId", "GROUP BY supports only ExecutionStatus, not 'TenantId'")]
    [InlineData("GROUP BY ExecutionStatus, WorkflowType", "GROUP BY supports a single field (ExecutionStatus)")]
    [InlineData("GROUP ExecutionStatus", "unexpected 'ExecutionStatus'; expected BY after GROUP")]
    [InlineData("GROUP BY ExecutionStatus GROUP BY ExecutionStatus", "duplicate GROUP BY clause")]
    [InlineData("ORDER StartTime", "unexpected 'StartTime'; expected BY after ORDER")]
    [InlineData("ORDER BY", "unexpected end of query; expected a field name in ORDER BY")]
    [InlineData("ORDER BY TenantId", "ORDER BY supports only system fields")]
    [InlineData("ORDER BY StartTime ORDER BY RunId", "duplicate ORDER BY clause")]
    [InlineData("ORDER BY StartTime AND WorkflowId = 'a'", "unexpected 'AND'; expected ORDER BY, GROUP BY or end of query")]
    public void Parse_InvalidQuery_ThrowsWithReason(string query, string expectedReason)
    {
        var exception = Assert.Throws<VisibilityQueryException>(() => VisibilityQuery.Parse(query));

        Assert.StartsWith("invalid query: ", exception.Message, StringComparison.Ordinal);
        Assert.Contains(expectedReason, exception.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_DeeplyNestedParentheses_ThrowsInsteadOfOverflowingStack()
    {
        string query = new string('(', 10_000) + "WorkflowId = 'a'" + new string(')', 10_000);

        var exception = Assert.Throws<VisibilityQueryException>(() => VisibilityQuery.Parse(query));

        Assert.Contains("parentheses nested deeper than 64 levels", exception.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_UnknownCustomAttribute_IsNotAnError()
    {
        var query = VisibilityQuery.Parse("CustomerRegion = 'eu' OR Missing IS NULL");

        Assert.True(query.Matches(Sample()));
    }

    private static string[] Sorted(VisibilityQuery query, IEnumerable<TestRecord> records) =>
        [.. records.Where(query.Matches).Order(query.Order).Select(r => r.RunId)];

    private static TestRecord Sample() => new()
    {
        ParentWorkflowId = "parent-wf",
        ParentRunId = "parent-run",
        SearchAttributes = Attributes(
            ("TenantId", Attr("Keyword", "\"tenant-a\"")),
            ("Tags", Attr("KeywordList", "[\"red\", \"blue\"]")),
            ("Description", Attr("Text", "\"Nightly Billing Run for ACME\"")),
            ("Priority", Attr("Int", "5")),
            ("Score", Attr("Double", "2.5")),
            ("Balance", Attr("Double", "-12.75")),
            ("IsVip", Attr("Bool", "true")),
            ("DueAt", Attr("Datetime", "\"2026-02-01T12:00:00Z\""))),
    };

    private static Payload Attr(string type, string json) => new()
    {
        Metadata =
        {
            ["encoding"] = ByteString.CopyFromUtf8("json/plain"),
            ["type"] = ByteString.CopyFromUtf8(type),
        },
        Data = ByteString.CopyFromUtf8(json),
    };

    private static Dictionary<string, Payload> Attributes(params (string Name, Payload Value)[] attributes)
    {
        var result = new Dictionary<string, Payload>();
        foreach ((string name, Payload value) in attributes)
        {
            result[name] = value;
        }

        return result;
    }

    private sealed class TestRecord : IVisibilityRecord
    {
        public string WorkflowId { get; init; } = "order-42";

        public string RunId { get; init; } = "run-1";

        public string WorkflowType { get; init; } = "OrderWorkflow";

        public string TaskQueue { get; init; } = "orders";

        public WorkflowExecutionStatus Status { get; init; } = WorkflowExecutionStatus.Running;

        public DateTime StartTime { get; init; } = SampleStart;

        public DateTime ExecutionTime { get; init; } = SampleStart.AddSeconds(5);

        public DateTime? CloseTime { get; init; }

        public string? ParentWorkflowId { get; init; }

        public string? ParentRunId { get; init; }

        public long HistoryLength { get; init; } = 12;

        public IReadOnlyDictionary<string, Payload> SearchAttributes { get; init; } = new Dictionary<string, Payload>();
    }
}
