-- An install request may name the machine it is for by serial number and/or MAC address: a machine
-- created by someone without machine.write on the request's node is bound only when its facts match.

ALTER TABLE provisioning_requests ADD COLUMN serial text NOT NULL DEFAULT '';
ALTER TABLE provisioning_requests ADD COLUMN mac text NOT NULL DEFAULT '';
