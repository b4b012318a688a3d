using Microsoft.Extensions.Configuration;

namespace AgentOrchestrator.Standalone.Tests;

public sealed class EmbeddedDefaultsTests
{
    private static Dictionary<string, string?> DefaultsFor(Dictionary<string, string?> settings) =>
        new(EmbeddedDefaults.For(new ConfigurationBuilder().AddInMemoryCollection(settings).Build()));

    [Fact]
    public void For_NothingConfigured_WiresPartsToEachOtherInProcess()
    {
        var defaults = DefaultsFor([]);

        Assert.Equal("http://127.0.0.1:5000", defaults["urls"]);
        Assert.Equal("127.0.0.1:7233", defaults["Temporal:Target"]);
        Assert.Equal("http://127.0.0.1:5000/v1", defaults["Model:Endpoint"]);
        Assert.Equal("InMemory", defaults["Bus:Transport"]);
        Assert.Equal("true", defaults["Auth:DevTokens"]);
    }

    [Fact]
    public void For_UrlsAndDevServerPortGiven_FollowThem()
    {
        var defaults = DefaultsFor(new() { ["urls"] = "http://+:8080;http://127.0.0.1:8081", ["DevServer:Port"] = "17233" });

        Assert.Equal("http://+:8080", defaults["urls"]);
        Assert.Equal("http://127.0.0.1:8080/v1", defaults["Model:Endpoint"]);
        Assert.Equal("127.0.0.1:17233", defaults["Temporal:Target"]);
    }
}
