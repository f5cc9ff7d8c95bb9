"""Messages between chains over AccordGateway: the message codec (:mod:`.messages`), the gateway
attester that signs them (:mod:`.attester`) and its attestation store
(:mod:`.attestation_store`), the relayer that delivers them (:mod:`.relayer`) and its recipient
probe (:mod:`.recipient_probe`), the keeper of remote steps (:mod:`.keeper`) and a message's
trace (:mod:`.trace`)."""
