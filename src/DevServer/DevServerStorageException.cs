namespace AgentOrchestrator.DevServer;

/// <summary>
/// The dev server's database cannot be used: corrupt, locked by another process, written by a newer server or not
/// a dev server database at all. Thrown at start-up; nothing in the file was changed.
/// </summary>
public sealed class DevServerStorageException : Exception
{
    public DevServerStorageException()
    {
    }

    public DevServerStorageException(string message)
        : base(message)
    {
    }

    public DevServerStorageException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
