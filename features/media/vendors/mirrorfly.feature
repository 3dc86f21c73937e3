@media @vendor @mirrorfly
Feature: MirrorFly's track listener (seed 000), under the mirrorfly profile
  userTrackListener delivers the user's own tracks (localUser) and every other participant's,
  audio and video, told apart by user id, through the one callback in a group call too; an app
  must not play its own audio, so no participant's own audio ever arrives as a remote track.

  Scenario: mirrorfly.tracks-own-and-remote — one's own tracks and the other's, audio and video
    Given a media session under the "mirrorfly" dialect with alice and bob
    When alice calls bob with video
    And bob accepts
    Then alice receives bob's video within 2000 ms
    And alice receives bob's audio within 2000 ms
    And alice's tracks are:
      | owner | kind  | local | state |
      | alice | audio | yes   | live  |
      | alice | video | yes   | live  |
      | bob   | audio | no    | live  |
      | bob   | video | no    | live  |

  Scenario: mirrorfly.no-own-audio — a participant's own audio never arrives as remote
    Given a media session under the "mirrorfly" dialect with alice and bob
    When alice calls bob with audio
    And bob accepts
    Then bob receives alice's audio within 2000 ms
    When media flows for 1 s
    Then bob hears alice's tone
    And alice hears bob's tone
    And no participant receives its own audio

  Scenario: mirrorfly.group-tracks-all-users — in a group call every user's tracks arrive
    Given a media session under the "mirrorfly" dialect with alice, bob and carol
    When alice calls bob and carol with video
    And bob accepts
    And carol accepts
    Then alice receives carol's video within 2000 ms
    And carol receives bob's audio within 2000 ms
    And bob receives carol's video within 2000 ms
    And bob receives alice's video within 2000 ms
    And bob's tracks are:
      | owner | kind  | local | state |
      | alice | audio | no    | live  |
      | alice | video | no    | live  |
      | bob   | audio | yes   | live  |
      | bob   | video | yes   | live  |
      | carol | audio | no    | live  |
      | carol | video | no    | live  |
