using System.Text;
using System.Text.Json;
using AgentOrchestrator.Contracts;

namespace AgentOrchestrator.RunStreaming.Log;

/// <summary>
/// The in-memory log's file (RunEvents:Log:JournalPath): one JSON line per append, written and handed to the operating
/// system before the append is answered, so a run's log (its epoch, numbers, entries and compactions) survives the
/// process being killed. Read back at start, expired runs dropped, and rewritten holding only what is still kept. A
/// torn last line (the process died while writing it) was never answered and is skipped; damage anywhere else is a
/// start-up error, never a silently shorter log.
/// </summary>
internal sealed class RunEventLogJournal : IDisposable
{
    private readonly Lock _gate = new();
    private readonly string _path;
    private FileStream? _file;

    private RunEventLogJournal(string path) => _path = path;

    /// <summary>Reads the journal at <paramref name="path"/> (none: nothing), then keeps it open for appends.</summary>
    public static RunEventLogJournal Open(string path, out List<JournalLine> lines)
    {
        var journal = new RunEventLogJournal(Path.GetFullPath(path));
        lines = journal.Read();
        return journal;
    }

    /// <summary>Replaces the file with <paramref name="lines"/> (written aside, then moved over it) and appends from there.</summary>
    public void Rewrite(IEnumerable<JournalLine> lines)
    {
        lock (_gate)
        {
            _file?.Dispose();
            Directory.CreateDirectory(Path.GetDirectoryName(_path)!);
            var temporary = _path + ".tmp";
            using (var rewritten = new FileStream(temporary, FileMode.Create, FileAccess.Write, FileShare.None))
            {
                foreach (var line in lines)
                {
                    Write(rewritten, line);
                }
                rewritten.Flush(flushToDisk: true);
            }
            File.Move(temporary, _path, overwrite: true);
            // Unbuffered: each line goes to the operating system in one write, and a failed one can be cut off again.
            _file = new FileStream(_path, FileMode.Append, FileAccess.Write, FileShare.Read, bufferSize: 0);
        }
    }

    /// <summary>Writes one line through to the operating system (a killed process loses nothing written here).</summary>
    public void Append(JournalLine line)
    {
        lock (_gate)
        {
            var file = _file ?? throw new ObjectDisposedException(nameof(RunEventLogJournal));
            var end = file.Position;
            try
            {
                Write(file, line);
            }
            catch (IOException)
            {
                // Disk full, say: the append fails (its step is retried) and leaves no torn line for the next one to follow.
                file.SetLength(end);
                throw;
            }
        }
    }

    public void Dispose()
    {
        lock (_gate)
        {
            _file?.Dispose();
            _file = null;
        }
    }

    private static void Write(FileStream file, JournalLine line)
    {
        var json = JsonSerializer.SerializeToUtf8Bytes(line, RunStreamingJsonContext.Default.JournalLine);
        var bytes = new byte[json.Length + 1];
        json.CopyTo(bytes, 0);
        bytes[^1] = (byte)'\n';
        file.Write(bytes);
    }

    private List<JournalLine> Read()
    {
        List<JournalLine> lines = [];
        if (!File.Exists(_path))
        {
            return lines;
        }
        var text = File.ReadAllText(_path, Encoding.UTF8);
        var rows = text.Split('\n');
        for (var i = 0; i < rows.Length; i++)
        {
            if (rows[i].Length == 0)
            {
                continue;
            }
            try
            {
                lines.Add(JsonSerializer.Deserialize(rows[i], RunStreamingJsonContext.Default.JournalLine)
                    ?? throw new JsonException("an empty entry"));
            }
            catch (JsonException) when (i == rows.Length - 1)
            {
                // The last line without its newline: the process died while writing it, before the append was answered.
            }
            catch (JsonException error)
            {
                throw new InvalidDataException(
                    $"The run-event journal {_path} is damaged at line {i + 1} ({error.Message}). Move it away to start with empty run-event logs " +
                    "(transcripts of finished steps are then rebuilt from Temporal history).", error);
            }
        }
        return lines;
    }
}

/// <summary>
/// One line of the journal: an entry appended to run <see cref="Key"/> at <see cref="Seq"/> of <see cref="Epoch"/>, with
/// the compaction it came with, and when the run's log expires. A line with neither message nor compaction only
/// carries the head forward (a rewritten journal whose last entries were compacted).
/// </summary>
internal sealed record JournalLine(string Key, string Epoch, long Seq, RunEventsPublished? Message, StepCompaction? Compaction, DateTimeOffset ExpiresAt);
