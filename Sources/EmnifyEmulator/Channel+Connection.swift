import NIOCore

extension Channel {
    /// The TCP connection that carries this channel's requests: the channel itself over HTTP/1.1,
    /// its parent for an HTTP/2 stream (every request of an HTTP/2 connection is a child channel of
    /// it). An accepted connection's parent is the listening channel, which has none, so a channel
    /// whose parent has a parent is a stream. The emulator counts and closes connections, not
    /// streams.
    var connection: any Channel {
        if let parent, parent.parent != nil { return parent }
        return self
    }
}
