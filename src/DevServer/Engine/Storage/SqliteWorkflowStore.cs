using AgentOrchestrator.DevServer.Engine.State;
using Google.Protobuf;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;
using Temporalio.Api.History.V1;

namespace AgentOrchestrator.DevServer.Engine.Storage;

/// <summary>
/// State in a SQLite file (WAL, held exclusively by this process; synchronous=NORMAL, or FULL to sync every commit to disk). Changes captured under a
/// workflow's lock queue up in capture order; one writer thread commits everything queued in one transaction
/// (group commit) and then releases the callers waiting in <see cref="WhenStoredAsync"/>. History is stored
/// event by event (append only), a run's mutable state as one <see cref="RunSnapshot"/> per run.
/// </summary>
internal sealed class SqliteWorkflowStore : IWorkflowStore, IDisposable
{
    /// <summary>Stored in the file's header (PRAGMA application_id) so another program's database is never taken for ours.</summary>
    public const int ApplicationId = 0x414F4453;

    /// <summary>PRAGMA user_version of the schema this server writes; <see cref="Migrations"/>[n] goes from n to n + 1.</summary>
    public const int SchemaVersion = 1;

    private static readonly string[] Migrations =
    [
        """
        CREATE TABLE records (kind TEXT NOT NULL, key TEXT NOT NULL, value BLOB NOT NULL, PRIMARY KEY (kind, key)) WITHOUT ROWID;
        CREATE TABLE executions (
            seq INTEGER PRIMARY KEY,
            run_id TEXT NOT NULL UNIQUE,
            namespace TEXT NOT NULL,
            workflow_id TEXT NOT NULL,
            workflow_type TEXT NOT NULL,
            task_queue TEXT NOT NULL,
            status INTEGER NOT NULL,
            start_time TEXT NOT NULL,
            close_time TEXT,
            history_length INTEGER NOT NULL,
            state BLOB NOT NULL);
        CREATE INDEX executions_by_workflow ON executions (namespace, workflow_id);
        CREATE TABLE history_events (run_id TEXT NOT NULL, event_id INTEGER NOT NULL, event BLOB NOT NULL, PRIMARY KEY (run_id, event_id)) WITHOUT ROWID;
        """,
    ];

    private readonly SqliteConnection _connection;
    private readonly ILogger _logger;
    private readonly object _gate = new();
    private readonly Queue<(long Target, TaskCompletionSource Done)> _waiters = new();
    private readonly SemaphoreSlim _signal = new(0);
    private readonly Thread _writer;
    private List<Write> _pending = [];
    private long _enqueued;
    private long _committed;
    private Exception? _failure;
    private bool _stopping;
    private bool _disposed;

    private SqliteWorkflowStore(string path, bool syncToDisk, SqliteConnection connection, ILogger logger)
    {
        Path = path;
        Description = $"SQLite {path} (WAL, synchronous={(syncToDisk ? "FULL: commits survive power loss" : "NORMAL: commits survive the process being killed")})";
        _connection = connection;
        _logger = logger;
        _writer = new Thread(WriteLoop) { IsBackground = true, Name = "devserver-store" };
        _writer.Start();
    }

    public string Path { get; }

    public string Description { get; }

    /// <summary>Opens (or creates) the database, checks and migrates its schema, and holds it for this process.</summary>
    public static SqliteWorkflowStore Open(string path, bool syncToDisk, ILogger logger)
    {
        var fullPath = System.IO.Path.GetFullPath(path);
        if (System.IO.Path.GetDirectoryName(fullPath) is { } directory)
        {
            Directory.CreateDirectory(directory);
        }
        var connection = new SqliteConnection(new SqliteConnectionStringBuilder
        {
            DataSource = fullPath,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Pooling = false,
            // Seconds a statement retries while the file is locked: only another process can hold it, so fail fast.
            DefaultTimeout = 2,
        }.ToString());
        try
        {
            connection.Open();
            // Held until this process ends (kill -9 included: the OS drops the lock), so a second server fails at once.
            Execute(connection, "PRAGMA locking_mode = EXCLUSIVE");
            Execute(connection, "PRAGMA journal_mode = WAL");
            Execute(connection, syncToDisk ? "PRAGMA synchronous = FULL" : "PRAGMA synchronous = NORMAL");
            using (var transaction = connection.BeginTransaction(deferred: false))
            {
                Migrate(connection, transaction, fullPath);
                transaction.Commit();
            }
            var check = Convert.ToString(Scalar(connection, "PRAGMA quick_check"), System.Globalization.CultureInfo.InvariantCulture);
            if (check != "ok")
            {
                throw new DevServerStorageException($"The dev server database {fullPath} is corrupt ({check}). Move it away to start empty; nothing in it was changed.");
            }
            return new SqliteWorkflowStore(fullPath, syncToDisk, connection, logger);
        }
        catch (SqliteException error) when (error.SqliteErrorCode is 5 or 6)
        {
            connection.Dispose();
            throw new DevServerStorageException(
                $"The dev server database {fullPath} is in use by another process. Stop the other dev server or choose another database file.", error);
        }
        catch (SqliteException error) when (error.SqliteErrorCode is 11 or 26)
        {
            connection.Dispose();
            throw new DevServerStorageException(
                $"{fullPath} is not a dev server database or is corrupt ({error.Message}). Move it away to start empty; nothing in it was changed.", error);
        }
        catch
        {
            connection.Dispose();
            throw;
        }
    }

    private static void Migrate(SqliteConnection connection, SqliteTransaction transaction, string path)
    {
        var applicationId = Convert.ToInt32(Scalar(connection, "PRAGMA application_id", transaction), System.Globalization.CultureInfo.InvariantCulture);
        var version = Convert.ToInt32(Scalar(connection, "PRAGMA user_version", transaction), System.Globalization.CultureInfo.InvariantCulture);
        var tables = Convert.ToInt32(Scalar(connection, "SELECT count(*) FROM sqlite_master", transaction), System.Globalization.CultureInfo.InvariantCulture);
        if (applicationId == 0 && version == 0 && tables == 0)
        {
            Execute(connection, $"PRAGMA application_id = {ApplicationId}", transaction);
        }
        else if (applicationId != ApplicationId)
        {
            throw new DevServerStorageException($"{path} is not a dev server database (it belongs to another program). Choose another database file.");
        }
        if (version > SchemaVersion)
        {
            throw new DevServerStorageException(
                $"The dev server database {path} has schema version {version}, written by a newer dev server; this one reads up to version {SchemaVersion}. Use the newer server or another database file.");
        }
        for (var from = version; from < SchemaVersion; from++)
        {
            Execute(connection, Migrations[from], transaction);
            Execute(connection, $"PRAGMA user_version = {from + 1}", transaction);
        }
    }

    public IReadOnlyDictionary<string, byte[]> LoadRecords(string kind)
    {
        var records = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        lock (_connection)
        {
            using var command = _connection.CreateCommand();
            command.CommandText = "SELECT key, value FROM records WHERE kind = $kind";
            command.Parameters.AddWithValue("$kind", kind);
            using var reader = command.ExecuteReader();
            while (reader.Read())
            {
                records[reader.GetString(0)] = (byte[])reader.GetValue(1);
            }
        }
        return records;
    }

    public IReadOnlyList<StoredRun> LoadRuns()
    {
        lock (_connection)
        {
            var histories = new Dictionary<string, List<HistoryEvent>>(StringComparer.Ordinal);
            using (var events = _connection.CreateCommand())
            {
                events.CommandText = "SELECT run_id, event_id, event FROM history_events ORDER BY run_id, event_id";
                using var reader = events.ExecuteReader();
                while (reader.Read())
                {
                    var runId = reader.GetString(0);
                    if (!histories.TryGetValue(runId, out var history))
                    {
                        histories[runId] = history = [];
                    }
                    var historyEvent = HistoryEvent.Parser.ParseFrom((byte[])reader.GetValue(2));
                    if (historyEvent.EventId != history.Count + 1 || reader.GetInt64(1) != historyEvent.EventId)
                    {
                        throw new InvalidDataException($"run {runId}: history event {reader.GetInt64(1)} is out of sequence");
                    }
                    history.Add(historyEvent);
                }
            }
            var runs = new List<StoredRun>();
            using var executions = _connection.CreateCommand();
            executions.CommandText = "SELECT namespace, workflow_id, run_id, state FROM executions ORDER BY seq";
            using var rows = executions.ExecuteReader();
            while (rows.Read())
            {
                var runId = rows.GetString(2);
                runs.Add(new StoredRun(rows.GetString(0), rows.GetString(1), runId, histories.GetValueOrDefault(runId) ?? [], (byte[])rows.GetValue(3)));
            }
            return runs;
        }
    }

    public void PutRecord(string kind, string key, byte[]? value) => Enqueue(new RecordWrite(kind, key, value));

    public void Capture(WorkflowChain chain)
    {
        foreach (var run in chain.Runs)
        {
            var mark = run.StorageMark ??= new RunStorageMark();
            if (mark.Closed)
            {
                continue;
            }
            var state = RunSnapshot.Serialize(run);
            var hasNewEvents = run.History.Count > mark.EventCount;
            if (!hasNewEvents && mark.State is { } stored && stored.AsSpan().SequenceEqual(state))
            {
                continue;
            }
            var events = new List<(long EventId, byte[] Data)>(run.History.Count - mark.EventCount);
            for (var i = mark.EventCount; i < run.History.Count; i++)
            {
                events.Add((run.History[i].EventId, run.History[i].ToByteArray()));
            }
            mark.EventCount = run.History.Count;
            mark.State = state;
            mark.Closed = !run.IsOpen;
            Enqueue(new RunWrite(run.RunId, run.NamespaceName, run.WorkflowId, run.WorkflowType, run.TaskQueue, (int)run.Status,
                run.StartTime, run.CloseTime, run.History.Count, state, events));
        }
    }

    public void Remove(WorkflowRun run) => Enqueue(new RunDelete(run.RunId));

    public Task WhenStoredAsync()
    {
        lock (_gate)
        {
            if (_failure is { } failure)
            {
                return Task.FromException(failure);
            }
            if (_committed >= _enqueued)
            {
                return Task.CompletedTask;
            }
            var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _waiters.Enqueue((_enqueued, done));
            return done.Task;
        }
    }

    private void Enqueue(Write write)
    {
        bool first;
        lock (_gate)
        {
            if (_stopping)
            {
                return;
            }
            first = _pending.Count == 0;
            _pending.Add(write);
            _enqueued++;
        }
        // The writer takes the whole queue at once: it needs waking only when a new batch begins.
        if (first)
        {
            _signal.Release();
        }
    }

    private void WriteLoop()
    {
        while (true)
        {
            List<Write> batch;
            long upTo;
            lock (_gate)
            {
                batch = _pending;
                upTo = _enqueued;
                if (batch.Count > 0)
                {
                    _pending = [];
                }
                else if (_stopping)
                {
                    return;
                }
            }
            if (batch.Count == 0)
            {
                _signal.Wait();
                continue;
            }
            try
            {
                WriteBatch(batch);
            }
            catch (Exception error) when (error is SqliteException or IOException or InvalidOperationException)
            {
                StoreLog.WriteFailed(_logger, error, Path);
                Fail(new DevServerStorageException($"The dev server could not write its database {Path}: {error.Message}", error));
                return;
            }
            lock (_gate)
            {
                _committed = upTo;
                while (_waiters.Count > 0 && _waiters.Peek().Target <= upTo)
                {
                    _waiters.Dequeue().Done.TrySetResult();
                }
            }
        }
    }

    private void Fail(DevServerStorageException failure)
    {
        lock (_gate)
        {
            _failure = failure;
            _stopping = true;
            while (_waiters.Count > 0)
            {
                _waiters.Dequeue().Done.TrySetException(failure);
            }
        }
    }

    private void WriteBatch(List<Write> batch)
    {
        // A run captured several times in one batch keeps only its last state; its events are all new.
        var lastStateOf = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < batch.Count; i++)
        {
            if (batch[i] is RunWrite write)
            {
                lastStateOf[write.RunId] = i;
            }
        }
        lock (_connection)
        {
            using var transaction = _connection.BeginTransaction(deferred: false);
            using var upsertRun = Command(transaction, """
                INSERT INTO executions (run_id, namespace, workflow_id, workflow_type, task_queue, status, start_time, close_time, history_length, state)
                VALUES ($run, $ns, $wf, $type, $tq, $status, $start, $close, $length, $state)
                ON CONFLICT (run_id) DO UPDATE SET status = excluded.status, close_time = excluded.close_time,
                    history_length = excluded.history_length, state = excluded.state
                """, "$run", "$ns", "$wf", "$type", "$tq", "$status", "$start", "$close", "$length", "$state");
            using var insertEvent = Command(transaction, "INSERT OR REPLACE INTO history_events (run_id, event_id, event) VALUES ($run, $id, $event)",
                "$run", "$id", "$event");
            for (var i = 0; i < batch.Count; i++)
            {
                switch (batch[i])
                {
                    case RunWrite run:
                        foreach (var (eventId, data) in run.Events)
                        {
                            Run(insertEvent, run.RunId, eventId, data);
                        }
                        if (lastStateOf[run.RunId] == i)
                        {
                            Run(upsertRun, run.RunId, run.Namespace, run.WorkflowId, run.WorkflowType, run.TaskQueue, run.Status,
                                run.StartTime.ToString("O"), run.CloseTime?.ToString("O"), run.HistoryLength, run.State);
                        }
                        break;
                    case RunDelete delete:
                        Execute(_connection, "DELETE FROM history_events WHERE run_id = $run; DELETE FROM executions WHERE run_id = $run", transaction,
                            ("$run", delete.RunId));
                        lastStateOf.Remove(delete.RunId);
                        break;
                    case RecordWrite record when record.Value is null:
                        Execute(_connection, "DELETE FROM records WHERE kind = $kind AND key = $key", transaction, ("$kind", record.Kind), ("$key", record.Key));
                        break;
                    case RecordWrite record:
                        Execute(_connection, "INSERT OR REPLACE INTO records (kind, key, value) VALUES ($kind, $key, $value)", transaction,
                            ("$kind", record.Kind), ("$key", record.Key), ("$value", record.Value));
                        break;
                }
            }
            transaction.Commit();
        }
    }

    private SqliteCommand Command(SqliteTransaction transaction, string sql, params string[] parameters)
    {
        var command = _connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        foreach (var name in parameters)
        {
            command.Parameters.Add(new SqliteParameter { ParameterName = name });
        }
        command.Prepare();
        return command;
    }

    private static void Run(SqliteCommand command, params object?[] values)
    {
        for (var i = 0; i < values.Length; i++)
        {
            command.Parameters[i].Value = values[i] ?? DBNull.Value;
        }
        command.ExecuteNonQuery();
    }

    private static void Execute(SqliteConnection connection, string sql, SqliteTransaction? transaction = null, params (string Name, object? Value)[] parameters)
    {
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, value ?? DBNull.Value);
        }
        command.ExecuteNonQuery();
    }

    private static object? Scalar(SqliteConnection connection, string sql, SqliteTransaction? transaction = null)
    {
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        return command.ExecuteScalar();
    }

    /// <summary>Writes what is queued, then closes the file (a clean stop loses nothing).</summary>
    public void Dispose()
    {
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }
            _disposed = true;
            _stopping = true;
        }
        _signal.Release();
        _writer.Join();
        lock (_connection)
        {
            _connection.Dispose();
        }
        _signal.Dispose();
    }

    private abstract record Write;

    private sealed record RunWrite(string RunId, string Namespace, string WorkflowId, string WorkflowType, string TaskQueue, int Status,
        DateTime StartTime, DateTime? CloseTime, int HistoryLength, byte[] State, List<(long EventId, byte[] Data)> Events) : Write;

    private sealed record RunDelete(string RunId) : Write;

    private sealed record RecordWrite(string Kind, string Key, byte[]? Value) : Write;
}
