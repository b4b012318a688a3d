using AgentOrchestrator.DevServer.Engine.Storage;
using Microsoft.Data.Sqlite;

namespace AgentOrchestrator.DevServer.Tests.Engine.Storage;

/// <summary>A database the server cannot use stops the start with a clear error and is left exactly as it was.</summary>
public sealed class SqliteWorkflowStoreTests : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "devserver-store-" + Guid.NewGuid().ToString("N"));

    public SqliteWorkflowStoreTests() => Directory.CreateDirectory(_directory);

    private string DatabasePath => Path.Combine(_directory, "dev.db");

    private Task<DevServerHost> StartAsync() => DevServerHost.StartAsync(new DevServerOptions { Port = 0, DatabasePath = DatabasePath });

    [Fact]
    public async Task Start_FileIsNotADatabase_RefusesAndLeavesTheFileAlone()
    {
        var garbage = new byte[8192];
        Random.Shared.NextBytes(garbage);
        await File.WriteAllBytesAsync(DatabasePath, garbage);

        var error = await Assert.ThrowsAsync<DevServerStorageException>(StartAsync);

        Assert.Contains("not a dev server database or is corrupt", error.Message, StringComparison.Ordinal);
        Assert.Equal(garbage, await File.ReadAllBytesAsync(DatabasePath));
    }

    [Fact]
    public async Task Start_DatabaseDamagedInsideAPage_RefusesAsCorrupt()
    {
        await using (var host = await StartAsync())
        {
            var client = await ScenarioHelpers.ConnectAsync(host);
            for (var i = 0; i < 50; i++)
            {
                await client.Connection.WorkflowService.StartWorkflowExecutionAsync(new Temporalio.Api.WorkflowService.V1.StartWorkflowExecutionRequest
                {
                    Namespace = "default",
                    WorkflowId = $"wf-{i}",
                    WorkflowType = new Temporalio.Api.Common.V1.WorkflowType { Name = "Filler" },
                    TaskQueue = new Temporalio.Api.TaskQueue.V1.TaskQueue { Name = "tq" },
                    RequestId = Guid.NewGuid().ToString(),
                });
            }
        }
        var bytes = await File.ReadAllBytesAsync(DatabasePath);
        Assert.True(bytes.Length > 3 * 4096, "the database spans several pages");
        // Page 2 onwards holds table b-trees: overwrite one whole page after the header page.
        Array.Fill(bytes, (byte)0x5A, 4096, 4096);
        await File.WriteAllBytesAsync(DatabasePath, bytes);

        var error = await Assert.ThrowsAsync<DevServerStorageException>(StartAsync);

        Assert.Contains("corrupt", error.Message, StringComparison.Ordinal);
        Assert.Equal(bytes, await File.ReadAllBytesAsync(DatabasePath));
    }

    [Fact]
    public async Task Start_AnotherServerHoldsTheFile_RefusesAsInUse()
    {
        await using var first = await StartAsync();

        var error = await Assert.ThrowsAsync<DevServerStorageException>(StartAsync);

        Assert.Contains("in use by another process", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Start_SchemaWrittenByANewerServer_RefusesAndNamesBothVersions()
    {
        CreateDatabase($"PRAGMA application_id = {SqliteWorkflowStore.ApplicationId}; PRAGMA user_version = 99; CREATE TABLE later (x);");

        var error = await Assert.ThrowsAsync<DevServerStorageException>(StartAsync);

        Assert.Contains("schema version 99", error.Message, StringComparison.Ordinal);
        Assert.Contains($"up to version {SqliteWorkflowStore.SchemaVersion}", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Start_AnotherProgramsDatabase_RefusesAndKeepsItsTables()
    {
        CreateDatabase("CREATE TABLE invoices (id INTEGER PRIMARY KEY, total REAL); INSERT INTO invoices (total) VALUES (12.5);");

        var error = await Assert.ThrowsAsync<DevServerStorageException>(StartAsync);

        Assert.Contains("belongs to another program", error.Message, StringComparison.Ordinal);
        using var connection = new SqliteConnection($"Data Source={DatabasePath};Pooling=False");
        connection.Open();
        using var count = connection.CreateCommand();
        count.CommandText = "SELECT count(*) FROM sqlite_master";
        Assert.Equal(1L, count.ExecuteScalar());
    }

    [Fact]
    public async Task Start_EmptyDirectory_CreatesTheCurrentSchema()
    {
        await using (await StartAsync())
        {
        }

        using var connection = new SqliteConnection($"Data Source={DatabasePath};Pooling=False");
        connection.Open();
        using var version = connection.CreateCommand();
        version.CommandText = "PRAGMA user_version";
        Assert.Equal((long)SqliteWorkflowStore.SchemaVersion, version.ExecuteScalar());
        using var journal = connection.CreateCommand();
        journal.CommandText = "PRAGMA journal_mode";
        Assert.Equal("wal", journal.ExecuteScalar());
    }

    private void CreateDatabase(string sql)
    {
        using var connection = new SqliteConnection($"Data Source={DatabasePath};Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
