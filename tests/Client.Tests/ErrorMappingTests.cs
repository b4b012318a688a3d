using System.Net;
using System.Net.Http.Headers;
using System.Text;

namespace AgentOrchestrator.Client.Tests;

public sealed class ErrorMappingTests
{
    [Fact]
    public void FromHubMessage_QuotaCodeWrappedBySignalR_IsQuotaExceededWithRetryAfter()
    {
        var error = ErrorMapping.FromHubMessage(
            "An unexpected error occurred invoking 'StartRun' on the server. HubException: [quota.start_rate] Run start rate for tenant exceeded; retry after 3 s",
            runId: null, innerException: null);

        var quota = Assert.IsType<QuotaExceededException>(error);
        Assert.Equal("quota.start_rate", quota.Code);
        Assert.Equal(TimeSpan.FromSeconds(3), quota.RetryAfter);
        Assert.StartsWith("Run start rate", quota.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("[run_not_found] No run with this id exists for your tenant.", typeof(RunNotFoundException))]
    [InlineData("run not found", typeof(RunNotFoundException))]
    [InlineData("[unauthorized] token expired", typeof(AuthenticationFailedException))]
    [InlineData("[invalid_request] 'input' is empty", typeof(InvalidRequestException))]
    [InlineData("[admission] too many connections; retry after 1 s", typeof(QuotaExceededException))]
    [InlineData("[slow_consumer] resume with your cursor", typeof(AgentOrchestratorException))]
    public void FromHubMessage_Code_MapsToItsType(string message, Type expected)
    {
        var error = ErrorMapping.FromHubMessage(message, "r1", innerException: null);

        Assert.IsType(expected, error);
    }

    [Fact]
    public async Task FromResponseAsync_ProblemWithCodeAndRetryAfter_IsQuotaExceeded()
    {
        using var response = new HttpResponseMessage(HttpStatusCode.TooManyRequests)
        {
            Content = new StringContent("""{"title":"Too many runs","detail":"Run start rate exceeded.","code":"quota.start_rate","retryAfterSeconds":7}""",
                Encoding.UTF8, "application/problem+json"),
        };
        response.Headers.RetryAfter = new RetryConditionHeaderValue(TimeSpan.FromSeconds(7));

        var error = await ErrorMapping.FromResponseAsync(response, runId: null, CancellationToken.None);

        var quota = Assert.IsType<QuotaExceededException>(error);
        Assert.Equal(("quota.start_rate", "Run start rate exceeded.", TimeSpan.FromSeconds(7)), (quota.Code, quota.Message, quota.RetryAfter));
        Assert.Equal(HttpStatusCode.TooManyRequests, quota.StatusCode);
    }

    [Theory]
    [InlineData(HttpStatusCode.Unauthorized, "r1", typeof(AuthenticationFailedException))]
    [InlineData(HttpStatusCode.NotFound, "r1", typeof(RunNotFoundException))]
    [InlineData(HttpStatusCode.BadRequest, null, typeof(InvalidRequestException))]
    [InlineData(HttpStatusCode.ServiceUnavailable, null, typeof(AgentOrchestratorException))]
    public async Task FromResponseAsync_NoCode_StatusDecides(HttpStatusCode status, string? runId, Type expected)
    {
        using var response = new HttpResponseMessage(status);

        var error = await ErrorMapping.FromResponseAsync(response, runId, CancellationToken.None);

        Assert.IsType(expected, error);
        Assert.Equal(status, error.StatusCode);
    }

    [Fact]
    public void IsTransient_AdmissionAndUnavailableOnly()
    {
        Assert.True(ErrorMapping.IsTransient(new QuotaExceededException(ErrorCodes.Admission, "busy", TimeSpan.FromSeconds(1))));
        Assert.True(ErrorMapping.IsTransient(new AgentOrchestratorException(ErrorCodes.Unavailable, "down")));
        Assert.False(ErrorMapping.IsTransient(new QuotaExceededException("quota.concurrent_runs", "too many", null)));
        Assert.False(ErrorMapping.IsTransient(new RunNotFoundException("r", "gone")));
    }
}
