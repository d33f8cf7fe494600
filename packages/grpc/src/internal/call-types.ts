import type { InterceptingCall, NextCall, StatusObject } from '@grpc/grpc-js';

/** What a client interceptor's `nextCall` returns (grpc-js does not export the interface by name). */
export type CallInterface = ReturnType<NextCall>;

/** The context of one outgoing message: its write callback and flags. */
export type MessageContext = Parameters<CallInterface['sendMessageWithContext']>[0];

/** The listener a call's `start` receives. */
export type CallListener = Parameters<InterceptingCall['start']>[1];

/** A listener with every method present (`InterceptingCall.start` always passes one). */
export interface FullCallListener {
  onReceiveMetadata(metadata: import('@grpc/grpc-js').Metadata): void;
  onReceiveMessage(message: unknown): void;
  onReceiveStatus(status: StatusObject): void;
}
