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

public sealed class EmbeddedDataDirectoryTests
{
    [Fact]
    public void FromArguments_NoFlag_KeepsStateInTheDefaultDirectoryAndPointsEveryStoreThere()
    {
        var (data, remaining) = EmbeddedDataDirectory.FromArguments(["--urls", "http://127.0.0.1:8080"]);
        var defaults = new Dictionary<string, string?>(EmbeddedDefaults.For(new ConfigurationBuilder().Build(), data));

        Assert.Equal(Path.GetFullPath(EmbeddedDataDirectory.DefaultPath), data.Path);
        Assert.Equal(["--urls", "http://127.0.0.1:8080"], remaining);
        Assert.Equal(Path.Combine(data.Path!, "devserver.db"), defaults["DevServer:DatabasePath"]);
        Assert.Equal("true", defaults["DevServer:WorkersInProcess"]);
        Assert.Equal("File", defaults["Tenancy:Store"]);
        Assert.Equal(Path.Combine(data.Path!, "tenant-overrides.json"), defaults["Tenancy:FilePath"]);
        Assert.Equal(Path.Combine(data.Path!, "dev-token-signing.key"), defaults["Auth:SigningKeyFile"]);
        Assert.Equal(Path.Combine(data.Path!, "run-events.journal"), defaults["RunEvents:Log:JournalPath"]);
    }

    [Fact]
    public void FromArguments_DataDirGiven_UsesItAndRemovesTheFlag()
    {
        var (data, remaining) = EmbeddedDataDirectory.FromArguments(["--data-dir", "/tmp/agents", "--DevServer:Port", "7300"]);

        Assert.Equal("/tmp/agents", data.Path);
        Assert.Equal(["--DevServer:Port", "7300"], remaining);
    }

    [Fact]
    public void FromArguments_Ephemeral_KeepsNothingAndSetsNoStore()
    {
        var (data, remaining) = EmbeddedDataDirectory.FromArguments(["--ephemeral", "--urls", "http://127.0.0.1:8080"]);
        var defaults = new Dictionary<string, string?>(EmbeddedDefaults.For(new ConfigurationBuilder().Build(), data));

        Assert.True(data.IsEphemeral);
        Assert.Equal(["--urls", "http://127.0.0.1:8080"], remaining);
        Assert.False(defaults.ContainsKey("DevServer:DatabasePath"));
        Assert.False(defaults.ContainsKey("Tenancy:Store"));
        Assert.False(defaults.ContainsKey("RunEvents:Log:JournalPath"));
    }

    [Fact]
    public void FromArguments_DataDirWithoutValue_IsRefused() =>
        Assert.Throws<ArgumentException>(() => EmbeddedDataDirectory.FromArguments(["--data-dir", "--urls", "x"]));
}
