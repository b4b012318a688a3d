using System.Globalization;

namespace AgentOrchestrator.Standalone;

/// <summary>
/// Configuration defaults that wire the parts to each other inside one process: the worker and gateway
/// talk to the embedded dev server, the worker calls the simulator mapped on this app's own URL, and the
/// bus is in memory; state that must survive a restart goes to the data directory (the dev server's database, tenant
/// policy overrides, the dev-token signing key). Anything set by the user (appsettings, environment, command line) wins.
/// </summary>
internal static class EmbeddedDefaults
{
    public const string DefaultUrl = "http://127.0.0.1:5000";

    public static IEnumerable<KeyValuePair<string, string?>> For(IConfiguration configuration, EmbeddedDataDirectory? dataDirectory = null)
    {
        var url = (configuration["urls"] ?? DefaultUrl).Split(';', StringSplitOptions.RemoveEmptyEntries)[0];
        var appUri = new Uri(url.Replace("://+", "://127.0.0.1", StringComparison.Ordinal).Replace("://*", "://127.0.0.1", StringComparison.Ordinal));
        var devServerPort = configuration["DevServer:Port"] ?? "7233";
        var defaults = new Dictionary<string, string?>
        {
            ["urls"] = url,
            ["DevServer:Port"] = devServerPort,
            ["Temporal:Target"] = "127.0.0.1:" + int.Parse(devServerPort, CultureInfo.InvariantCulture).ToString(CultureInfo.InvariantCulture),
            ["Model:Endpoint"] = new Uri(appUri, "v1").ToString(),
            ["Bus:Transport"] = "InMemory",
            ["Auth:DevTokens"] = "true",
        };
        if (dataDirectory is { IsEphemeral: false })
        {
            defaults["DevServer:DatabasePath"] = dataDirectory.DevServerDatabase;
            // The worker lives in this process: a step that was running when it died is retried at once after a restart.
            defaults["DevServer:WorkersInProcess"] = "true";
            defaults["RunEvents:Log:JournalPath"] = dataDirectory.RunEventJournal;
            defaults["Tenancy:Store"] = "File";
            defaults["Tenancy:FilePath"] = dataDirectory.TenantOverrides;
            defaults["Auth:SigningKeyFile"] = dataDirectory.DevTokenSigningKey;
        }
        return defaults;
    }
}
